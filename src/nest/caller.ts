// What a nested call takes from its caller's process, read in /proc: the working directory (a
// subshell's `cd` included, symlinks resolved as getcwd does), the umask, which files its
// descriptors are, and the environment entries bash passes on without showing them. Each is
// what a nested executable started by that caller would have inherited.
import { lstatSync, fstatSync, readFileOrNull, readlinkSync, statSync } from "../sys/fs.ts";

/** The caller's working directory and umask; null if its /proc entry cannot be read. */
export function readCaller(pid: number): { cwd: string; umask: number } | null {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    // A removed directory: the executable would fail to start there; let it say so.
    if (cwd.endsWith(" (deleted)") || !cwd.startsWith("/")) return null;
    const status = readFileOrNull(`/proc/${pid}/status`, "latin1");
    const umask = status === null ? null : /^Umask:\s*([0-7]+)$/m.exec(status);
    if (umask === null) return null;
    return { cwd, umask: Number.parseInt(umask[1]!, 8) };
  } catch {
    return null;
  }
}

/** Whether descriptor `fd` of process `pid` is open. */
export function callerHasFd(pid: number, fd: number): boolean {
  return lstatSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false }) !== undefined;
}

/** Whether descriptor `fd` of process `pid` is the same file as descriptor `own` of this process. */
export function sameFile(pid: number, fd: number, own: number): boolean {
  try {
    const theirs = statSync(`/proc/${pid}/fd/${fd}`);
    const ours = fstatSync(own);
    return theirs.dev === ours.dev && theirs.ino === ours.ino;
  } catch {
    return false;
  }
}

/**
 * The entries of the caller's initial environment whose names are not shell identifiers (`a-b=1`):
 * bash cannot show them (`declare -px` lists variables), yet passes them on to every command
 * it runs unchanged. Exported functions (`BASH_FUNC_...`) are not among them: bash re-exports
 * those itself, and the request carries them.
 */
export function passedThrough(pid: number): Record<string, string> {
  const environ = readFileOrNull(`/proc/${pid}/environ`);
  const out: Record<string, string> = {};
  if (environ === null) return out;
  for (const entry of environ.toString("utf8").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name.startsWith("BASH_FUNC_")) continue;
    out[name] = entry.slice(eq + 1);
  }
  return out;
}
