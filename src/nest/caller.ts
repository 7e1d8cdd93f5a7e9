// What a nested call takes from its caller's process, read in /proc: the working directory (a
// subshell's `cd` included, symlinks resolved as getcwd does) and which files its descriptors
// are. Each is what a nested executable started by that caller would inherit.
import { lstatSync, fstatSync, readlinkSync, statSync } from "../sys/fs.ts";

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

/** Which file an open descriptor is: device and inode. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** The file descriptor `fd` of process `pid` is, or null if it is not open (or not ours to see). */
export function callerFile(pid: number, fd: number): FileIdentity | null {
  const st = statSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false });
  return st === undefined ? null : { dev: st.dev, ino: st.ino };
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
