// What a nested call takes from its caller's process, read in /proc: the working directory (a
// subshell's `cd` included, symlinks resolved as getcwd does), which files its descriptors
// are, and what else its children inherit (inheritance.ts). Each is what a nested executable
// started by that caller would inherit.
import { lstatSync, fstatSync, readFileSync, readlinkSync, statSync } from "../sys/fs.ts";
import { ioPriority } from "../sys/libc.ts";
import { changeableText, fixedText, NAMESPACES, passedThrough, startTimeOf } from "./inheritance.ts";

/**
 * The caller's working directory, as getcwd would give it in that process (symlinks resolved, a
 * subshell's `cd` included); null if it is gone or its /proc entry cannot be read.
 */
export function callerCwd(pid: number): string | null {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    // A removed directory: the executable would fail to start there; let it say so.
    return cwd.endsWith(" (deleted)") || !cwd.startsWith("/") ? null : cwd;
  } catch {
    return null;
  }
}

/**
 * The variables a bash caller passes on to its children as they are, from its initial
 * environment (inheritance.ts `passedThrough`); null if that cannot be read.
 */
export function callerPassedThrough(pid: number): [string, string][] | null {
  try {
    // Decoded as the runtime decodes a nested executable's environment (request.ts).
    return passedThrough(readFileSync(`/proc/${pid}/environ`, "utf8"));
  } catch {
    return null;
  }
}

/** Which file an open descriptor is: device and inode. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The file descriptor `fd` of process `pid` is, or null if it is not open (or not ours to see). */
export function callerFile(pid: number, fd: number): FileIdentity | null {
  return fileAt(`/proc/${pid}/fd/${fd}`);
}

/** The file `path` names (symbolic links followed), or null if there is none. */
export function fileAt(path: string): FileIdentity | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st === undefined ? null : { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** The file descriptor `fd` of this process is. */
export function ownFile(fd: number): FileIdentity {
  const st = fstatSync(fd);
  return { dev: st.dev, ino: st.ino };
}

/** Whether two identities are the same file. */
export function sameFile(a: FileIdentity | null, b: FileIdentity): boolean {
  return a !== null && a.dev === b.dev && a.ino === b.ino;
}

/** Whether descriptor `fd` of process `pid` is open. */
export function callerHasFd(pid: number, fd: number): boolean {
  return lstatSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false }) !== undefined;
}

/**
 * What a child of process `pid` inherits besides its working directory, environment and
 * descriptors (its umask included), as one text (inheritance.ts); null if any of it cannot be
 * read (the process is gone, or not ours to see). What stays fixed for a process's life is
 * kept in `fixed`, by pid and start time.
 */
export function inheritanceOf(pid: number, fixed: Map<string, string>): string | null {
  const proc = `/proc/${pid}`;
  try {
    const stat = readFileSync(`${proc}/stat`, "latin1");
    const changeable = changeableText({
      limits: readFileSync(`${proc}/limits`, "latin1"),
      stat,
      status: readFileSync(`${proc}/status`, "latin1"),
      oomScoreAdj: readFileSync(`${proc}/oom_score_adj`, "latin1"),
      cgroup: readFileSync(`${proc}/cgroup`, "latin1"),
      ioPriority: ioPriority(pid),
    });
    const key = `${pid} ${startTimeOf(stat)}`;
    let rest = fixed.get(key);
    if (rest === undefined) {
      rest = fixedText({ personality: readFileSync(`${proc}/personality`, "latin1"), root: readlinkSync(`${proc}/root`), namespaces: NAMESPACES.map((ns) => linkOrNull(`${proc}/ns/${ns}`)) });
      // Kept for the callers of the last while: a build's callers are a few shells.
      if (fixed.size >= FIXED_KEPT) fixed.delete(fixed.keys().next().value!);
      fixed.set(key, rest);
    }
    return `${changeable}\n${rest}`;
  } catch {
    return null;
  }
}

const FIXED_KEPT = 256;

// A namespace this kernel does not have (time, before Linux 5.6) is missing for every process.
function linkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
