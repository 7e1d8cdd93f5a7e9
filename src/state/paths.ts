import { join } from "../sys/path.ts";
import { type Result, ok, err } from "../result.ts";

/** Where one task's files live in the state directory (SPEC §8). */
export interface TaskPaths {
  lock: string;
  hash: string;
  /** The stat shortcut's memo of the last git listing (inputs/stat-memo.ts). */
  statMemo: string;
  log: string;
  result: string;
  buildDir: string;
}

// Names become file names under locks/, hash/, logs/ and results/. Anything that could reach
// outside those folders, or that the file system would refuse, is refused up front.
const MAX_NAME_BYTES = 200;
// A name is printed in every line of its task (`[name] stdout | ...`) and sent to the parent in
// debug requests: a newline would split lines, an escape would drive the terminal. C0 and C1
// controls and DEL are refused (NUL has its own message).
const CONTROL = /[\x01-\x1f\x7f-\x9f]/;

/** Checks that a task name is a plain file name; the error says why and what to do. */
export function checkTaskName(name: string): Result<string> {
  const why =
    name === "" ? "it is empty"
    : name.includes("/") ? 'it contains "/"'
    : name.includes("\0") ? "it contains a NUL byte"
    : CONTROL.test(name) ? "it contains a control character (newline, tab, escape...)"
    : name === "." || name === ".." ? "it is a directory name"
    : Buffer.byteLength(name) > MAX_NAME_BYTES ? `it is longer than ${MAX_NAME_BYTES} bytes`
    : null;
  if (why === null) return ok(name);
  // JSON.stringify escapes C0 controls; DEL and C1 controls are escaped too, so the message is safe to print.
  const quoted = JSON.stringify(name).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return err(`invalid task name ${quoted}: ${why}; a task name must be a plain file name, choose one with -n NAME`);
}

/** The paths of a task's lock, hash, log and result files. */
export function taskPaths(stateDir: string, buildId: string, name: string): TaskPaths {
  const buildDir = join(stateDir, "builds", buildId);
  return {
    lock: join(stateDir, "locks", `${name}.lock`),
    hash: join(stateDir, "hash", `${name}.hash`),
    statMemo: join(stateDir, "hash", `${name}.stat`),
    log: join(buildDir, "logs", `${name}.log`),
    result: join(buildDir, "results", name),
    buildDir,
  };
}

/**
 * A new build id: ISO-8601 UTC time, made unique for builds started in the same millisecond
 * by the process id (no two live processes share one).
 */
export function newBuildId(now: Date, pid: number): string {
  return `${now.toISOString()}-${pid}`;
}
