// Shared machinery of the fault tests: start the real executable in a sandbox, watch its output
// line by line, wait for files and processes with hard timeouts, and clean up every process a
// test started even when the test fails half-way.
import { describe, beforeEach, afterEach } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXE, makeSandbox, type Sandbox } from "../helpers/env.ts";

export { EXE };

/**
 * The fast paths on (the default: nested `taskrunner` calls served by the build's top-level
 * runner, a task's first `snapshot` read from its command before bash starts) and off (new
 * executables, TASKRUNNER_DISABLE_FAST_NESTING=1; `snapshot` decided when bash calls it,
 * TASKRUNNER_DISABLE_EARLY_SNAPSHOT=1). Fault tests run both ways with the same expectations.
 */
const NESTINGS = [
  { label: "nested calls served by the top level", env: {} },
  { label: "nested calls through the executable", env: { TASKRUNNER_DISABLE_FAST_NESTING: "1", TASKRUNNER_DISABLE_EARLY_SNAPSHOT: "1" } },
] as const;
let nestingEnv: Record<string, string> = {};

/** Whether the running test's nested calls are served by the top-level runner (not executables). */
export function servedByTopLevel(): boolean {
  return nestingEnv.TASKRUNNER_DISABLE_FAST_NESTING === undefined;
}

/**
 * Bash for the top of a task script whose first nested call must be served when the top level
 * serves calls: it waits for the build's channel file, which the top level writes while the
 * task's bash starts (a call made before it is there runs the executable, the same in effect).
 */
export const CHANNEL_READY = 'if [ -n "${_taskrunner_call-}" ]; then until [ -s "$_taskrunner_call" ]; do sleep 0.01; done; fi';

/** Defines `tests` once for each way of nesting; a Fault made in a test gets that way's setting. */
export function inBothNestings(tests: () => void): void {
  for (const nesting of NESTINGS) {
    describe(nesting.label, () => {
      beforeEach(() => {
        nestingEnv = nesting.env;
      });
      // Tests outside these run with the default.
      afterEach(() => {
        nestingEnv = {};
      });
      tests();
    });
  }
}

/** Polls `predicate` every 10 ms until it is true; throws after `timeoutMs` with `what` and `detail()`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ""}`);
    }
    await Bun.sleep(10);
  }
}

/** Settles with `p`, or throws after `timeoutMs`. */
export async function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string, detail?: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ""}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a process exists and is not a zombie. A zombie (state Z in /proc/PID/stat) has
 * exited; it lingers only until its (possibly new, reparented) parent reaps it.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may contain spaces: the state follows the last ")".
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The parent pid of a live process (field 4 of /proc/PID/stat). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[1]);
}

/** Waits until `pid` is gone (or a zombie). */
export function waitGone(pid: number, timeoutMs: number, what: string): Promise<void> {
  return waitFor(() => !isAlive(pid), timeoutMs, `${what} (pid ${pid}) to be gone`, () => procInfo(pid));
}

function procInfo(pid: number): string {
  try {
    return `/proc/${pid}/stat: ${readFileSync(`/proc/${pid}/stat`, "utf8").trim()}`;
  } catch {
    return `/proc/${pid}/stat unreadable`;
  }
}

/** Waits until `path` holds a complete line with a pid (written by `echo $$ > path`) and returns it. */
export async function waitForPidFile(path: string, timeoutMs: number): Promise<number> {
  let pid = 0;
  await waitFor(
    () => {
      if (!existsSync(path)) return false;
      const text = readFileSync(path, "utf8");
      if (!/^\d+\n$/.test(text)) return false;
      pid = Number(text.trim());
      return true;
    },
    timeoutMs,
    `pid file ${path}`,
  );
  return pid;
}

/** Reads a stream in the background, keeping all its text, so a test can wait for a line in it. */
export class StreamWatcher {
  text = "";
  ended = false;
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    this.done = (async () => {
      for await (const chunk of stream) this.text += decoder.decode(chunk, { stream: true });
      this.text += decoder.decode();
      this.ended = true;
    })();
  }

  lines(): string[] {
    return this.text.split("\n").filter((l) => l !== "");
  }

  /** Waits until a complete line matches `re`. */
  async waitForLine(re: RegExp, timeoutMs: number, what = String(re)): Promise<void> {
    const found = () => this.text.split("\n").slice(0, -1).some((l) => re.test(l));
    await waitFor(found, timeoutMs, `a line matching ${what}`, () => `output so far:\n${this.text}`);
  }
}

/** A runner (or any command) started by a test, with its stdout and stderr being watched. */
export interface Started {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  stdout: StreamWatcher;
  stderr: StreamWatcher;
  /** Both streams, for failure messages. */
  show(): string;
}

/**
 * One test's world: a sandbox whose work dir is a git repo; `cleanup()` kills every process
 * the test started, whatever happened.
 */
export class Fault {
  readonly box: Sandbox;

  constructor(name: string) {
    this.box = makeSandbox(`fault-${name}-`);
    Object.assign(this.box.env, nestingEnv);
    const git = Bun.spawnSync(["git", "init", "-q"], { cwd: this.box.work, env: this.box.env });
    if (git.exitCode !== 0) throw new Error(`git init failed: ${git.stderr}`);
  }

  /** A path in the work dir. */
  path(name: string): string {
    return join(this.box.work, name);
  }

  write(name: string, text: string): void {
    writeFileSync(this.path(name), text);
  }

  /** Starts `argv` in the work dir with the sandbox's clean environment plus `env`. */
  start(argv: string[], env: Record<string, string> = {}): Started {
    const proc = Bun.spawn(argv, {
      cwd: this.box.work,
      env: { ...this.box.env, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const stdout = new StreamWatcher(proc.stdout);
    const stderr = new StreamWatcher(proc.stderr);
    return { proc, pid: proc.pid, stdout, stderr, show: () => `--- stdout:\n${stdout.text}--- stderr:\n${stderr.text}---` };
  }

  /** Starts the executable under test: `taskrunner ARGS...`. */
  runner(args: string[], env: Record<string, string> = {}): Started {
    return this.start([EXE, ...args], env);
  }

  /** Paths under the state dir matching a glob (e.g. `builds/*\/results/t`). */
  stateFiles(pattern: string): string[] {
    return [...new Bun.Glob(pattern).scanSync({ cwd: this.box.state, onlyFiles: true })].sort().map((p) => join(this.box.state, p));
  }

  /**
   * Kills whatever the test left running and removes the sandbox. Every process a test starts
   * has the sandbox's state directory in its environment, and tasks and their children inherit
   * it, so a scan of /proc finds all of them, also what a test that failed half-way never saw (a
   * runner blocked on a lock, a task's children in a session of their own), and never an
   * unrelated process that happens to reuse a pid the test once saw.
   */
  async cleanup(): Promise<void> {
    const entry = `TASKRUNNER_STATE_DIRECTORY=${this.box.state}`;
    // Repeated, because a process can fork between one scan and the kill; SIGKILL is delivered
    // asynchronously, and a runner not dead yet could write into the sandbox being removed.
    await waitFor(
      () => {
        const left = processesWithEnv(entry).filter(isAlive);
        for (const p of left) {
          try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
        }
        return left.length === 0;
      },
      5000,
      "the test's processes to be gone",
    ).catch((e: Error) => console.error(e.message));
    rmSync(this.box.root, { recursive: true, force: true });
  }
}

/** Pids of the processes (other than this one) whose environment holds the entry `entry`. */
function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(entry)) found.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

/** The exit status of a finished process as a comparable value: `{ code, signal }`. */
export async function exitOf(
  s: Started,
  timeoutMs: number,
  what = "the runner to exit",
  drain = true,
): Promise<{ code: number | null; signal: string | number | null }> {
  await withTimeout(s.proc.exited, timeoutMs, what, s.show);
  // Let the readers take in what the process wrote just before it exited. The streams end only
  // when every holder has closed them: a task's leftover process holds the top-level stdout, so
  // a test that leaves one behind on purpose passes drain = false.
  if (drain) await withTimeout(Promise.all([s.stdout.done, s.stderr.done]), 5000, "the runner's output to end", s.show);
  return { code: s.proc.exitCode, signal: s.proc.signalCode };
}

/** A stack trace or an uncaught-error report from Bun in some output. */
export const CRASH = /^\s+at |\berror: |Uncaught|panic|Segmentation fault|oh no: Bun has crashed/m;
