// Builds the release executables, dist/taskrunner-linux-x64 and dist/taskrunner-linux-arm64,
// and dist/SHA256SUMS (the `sha256sum -c` format). Bun cross-compiles: for a target other than
// this machine's it fetches that Bun runtime from the npm registry (@oven/bun-linux-aarch64...).
//
// Both are laid out by one start-up profile (build.ts), recorded by running the one built for
// this machine: an arm64 one cannot run here but under an emulator. The profile names
// functions by identifiers that do not depend on the architecture. Measured with Bun 1.4.5 on
// the no-op path: of the 8,951 entries recorded from the arm64 executable under qemu, all but 13
// are in the recording from the x64 one (and 11 of its entries not in the arm64 one), while two
// recordings from the same x64 executable differ by 25 and 51 entries. So the x64 profile fits
// the arm64 build about as well as it fits its own.
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { compile, recordNoOp } from "./build.ts";

const targets = [
  { arch: "x64", target: "bun-linux-x64", outfile: "dist/taskrunner-linux-x64" },
  { arch: "arm64", target: "bun-linux-arm64", outfile: "dist/taskrunner-linux-arm64" },
];

mkdirSync("dist", { recursive: true });
for (const t of targets) await compile(t.outfile, { target: t.target });
const native = targets.find((t) => t.arch === process.arch);
const order = native === undefined ? null : recordNoOp(native.outfile);
if (order === null) {
  console.log(`no start-up profile: ${native === undefined ? `no release runs on this machine (${process.arch})` : "the no-op could not be recorded"}`);
} else {
  try {
    for (const t of targets) await compile(t.outfile, { target: t.target, order: order.file });
  } finally {
    order.remove();
  }
}

let sums = "";
for (const t of targets) sums += `${await sha256(t.outfile)}  ${basename(t.outfile)}\n`;
writeFileSync("dist/SHA256SUMS", sums);
console.log(`built ${targets.map((t) => t.outfile).join(", ")} and dist/SHA256SUMS`);

/** The file's SHA-256, hex, read as a stream (the executables are over 100 MB). */
async function sha256(file: string): Promise<string> {
  const hash = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
