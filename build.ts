// Builds ONE executable, dist/taskrunner, for this machine (what the tests run; release.ts builds
// the release executables with the same functions). The flags are the start-up measurements of
// ../shared/BUN-NOTES.md: --splitting keeps lazily imported clients (S3, GitHub) out of the
// start-up parse, --bytecode skips parsing of what is loaded, and --bytecode with top-level
// await needs --format=esm. --compile-jit-policy=16 multiplies JavaScriptCore's tier-up thresholds
// by 16 for the whole run: the no-op path is run-once code that never repays compiling it
// (measured against normal thresholds: ~1 ms and ~1 MiB less for the no-op), and neither did
// the code serving 20 nested no-ops (see main.ts; 16 measured 3% faster than 32 there, the
// no-op the same).
// --no-compile-autoload-dotenv/-bunfig: the settings and a task's environment come from the
// environment the runner was started with (SPEC), never from a .env or bunfig.toml that happens
// to be in the working directory; not looking for them is also ~0.2 ms less per start.
import { $ } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const flags = ["--compile", "--splitting", "--bytecode", "--minify", "--format=esm", "--compile-jit-policy=16", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig"];

/**
 * Compiles src/main.ts into `outfile`: for this machine, or for a Bun `--target` such as
 * `bun-linux-arm64` (Bun fetches that runtime from the npm registry), laid out by `order` if given.
 */
export async function compile(outfile: string, options: { target?: string; order?: string } = {}): Promise<void> {
  const target = options.target === undefined ? [] : [`--target=${options.target}`];
  const order = options.order === undefined ? [] : [`--bytecode-order=${options.order}`];
  await $`bun build src/main.ts ${flags} ${target} ${order} --outfile ${outfile}`.quiet();
}

/** A recorded start-up profile: the file for --bytecode-order, and how to remove it. */
export interface Profile {
  file: string;
  remove: () => void;
}

/**
 * Profile-guided bytecode layout: the bytecode the cached no-op uses is placed together at the
 * front, so a start reads (and keeps resident) fewer pages of the executable: ~0.5 MiB less peak
 * memory and ~0.3 ms less for the no-op. Runs the no-op path (a second run of an unchanged
 * task) of `exe`, which must run on this machine, with the bytecode-order recorder on; null if
 * it could not be recorded (no git here, say): the profile is an optimisation only.
 */
export function recordNoOp(exe: string): Profile | null {
  const root = mkdtempSync(join(tmpdir(), "taskrunner-build-"));
  const remove = () => rmSync(root, { recursive: true, force: true });
  const work = join(root, "work");
  const file = join(root, "noop.order");
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: root,
    TASKRUNNER_STATE_DIRECTORY: join(root, "state"),
  };
  const run = (cmd: string[], extra: Record<string, string> = {}) =>
    Bun.spawnSync(cmd, { cwd: work, env: { ...env, ...extra }, stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  try {
    Bun.spawnSync(["mkdir", "-p", work]);
    writeFileSync(join(work, "input.txt"), "input\n");
    writeFileSync(join(work, "task.sh"), "snapshot input.txt\n");
    const ok =
      run(["git", "init", "-q"]) &&
      run(["git", "add", "-A"]) &&
      run(["git", "-c", "user.name=build", "-c", "user.email=build@localhost", "commit", "-qm", "profile"]) &&
      run([resolve(exe), "-n", "t", "bash", "task.sh"]) &&
      run([resolve(exe), "-n", "t", "bash", "task.sh"], { BUN_BYTECODE_ORDER_OUT: file }) &&
      Bun.file(file).size > 0;
    if (ok) return { file, remove };
  } catch {
    // Fall through: the profile is an optimisation only.
  }
  remove();
  return null;
}

/** Builds `outfile` for this machine, then again laid out by a profile recorded from that build, so it always matches the code. */
export async function buildProfiled(outfile: string): Promise<Profile | null> {
  await compile(outfile);
  const order = recordNoOp(outfile);
  if (order !== null) {
    try {
      await compile(outfile, { order: order.file });
    } catch (e) {
      order.remove();
      throw e;
    }
  }
  return order;
}

if (import.meta.main) {
  const outfile = "dist/taskrunner";
  const order = await buildProfiled(outfile);
  order?.remove();
  console.log(order === null ? `built ${outfile} (no start-up profile: the no-op could not be recorded)` : `built ${outfile}`);
}
