// The peer of the benchmark: Turborepo's native binary, installed for the benchmark only (into
// bench/.turbo-install, never a dependency of the project), configured for the same task, input
// and output as taskrunner's, in single-package mode.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The pinned peer version: results stay comparable across runs. */
const TURBO_VERSION = "2.11.11";

export type Turbo = { ok: true; exe: string; version: string } | { ok: false; reason: string };

/**
 * Installs `turbo` with its platform package via npm (once; later runs reuse it) and returns the
 * platform package's native executable, not the Node.js shim that would start it.
 */
export function installTurbo(dir: string): Turbo {
  const platform = `${process.platform === "darwin" ? "darwin" : "linux"}-${process.arch === "arm64" ? "arm64" : "64"}`;
  const exe = join(dir, "node_modules", "@turbo", platform, "bin", "turbo");
  const installed = join(dir, "node_modules", "turbo", "package.json");
  const version = () => (JSON.parse(readFileSync(installed, "utf8")) as { version: string }).version;
  if (!(existsSync(exe) && existsSync(installed) && version() === TURBO_VERSION)) {
    const r = Bun.spawnSync(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `turbo@${TURBO_VERSION}`], {
      // The user's own environment: npm needs its config (registry, proxy) from the real HOME.
      env: process.env,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 120_000,
    });
    if (r.exitCode !== 0) return { ok: false, reason: `npm install turbo@${TURBO_VERSION} failed (exit ${r.exitCode ?? r.signalCode}): ${r.stderr.toString().trim().split("\n").slice(-3).join(" / ")}` };
  }
  if (!existsSync(exe)) return { ok: false, reason: `no native binary at ${exe} (platform package missing)` };
  return { ok: true, exe, version: version() };
}

/**
 * Makes `dir` a turbo single-package repository whose task `t` copies its input to out.txt,
 * as taskrunner's task.sh does; `input` is a turbo input glob. The caller commits the files.
 */
export function setUpTurbo(dir: string, input: string): void {
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "bench", private: true, packageManager: "npm@10.9.0", scripts: { t: "bash turbo-task.sh" } }),
  );
  writeFileSync(join(dir, "turbo.json"), JSON.stringify({ tasks: { t: { inputs: [input], outputs: ["out.txt"] } } }));
  writeFileSync(join(dir, "turbo-task.sh"), `ls ${input.replace("/**", "")} > out.txt\n`);
}

/**
 * Makes `dir` an npm workspace of `packages` packages (packages/pN, already holding src/) for
 * turbo, whose `build` task of each package lists its sources into out.txt, as taskrunner's
 * pkg.sh does, with the package's src/** as inputs. The caller commits the files.
 */
export function setUpTurboWorkspace(dir: string, packages: number): void {
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "bench-workspace", private: true, packageManager: "npm@10.9.0", workspaces: Array.from({ length: packages }, (_, i) => `packages/p${i + 1}`) }),
  );
  const lock: { name: string; lockfileVersion: number; requires: boolean; packages: Record<string, object> } = {
    name: "bench-workspace",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: "bench-workspace", workspaces: Array.from({ length: packages }, (_, i) => `packages/p${i + 1}`) } },
  };
  for (let p = 1; p <= packages; p++) {
    writeFileSync(join(dir, "packages", `p${p}`, "package.json"), JSON.stringify({ name: `p${p}`, version: "1.0.0", scripts: { build: "ls src > out.txt" } }));
    lock.packages[`packages/p${p}`] = { name: `p${p}`, version: "1.0.0" };
    lock.packages[`node_modules/p${p}`] = { resolved: `packages/p${p}`, link: true };
  }
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lock, null, 2));
  writeFileSync(join(dir, "turbo.json"), JSON.stringify({ tasks: { build: { inputs: ["src/**"], outputs: ["out.txt"] } } }));
}
