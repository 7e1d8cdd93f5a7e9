import { mkdirSync, openSync, closeSync, constants } from "../sys/fs.ts";
import { dirname } from "../sys/path.ts";
import { LOCK_EX, tryFlock } from "../sys/libc.ts";
import { StateWriteError } from "./state-error.ts";

/** A held lock: the kernel releases it when the descriptor closes or the process dies. */
export interface Lock {
  release(): void;
}

/**
 * Takes an exclusive flock(2) on `path`, waiting as long as another process holds it. A blocking
 * flock would hold back JS signal handlers until it returns (BUN-NOTES.md), so Ctrl-C would not
 * work while waiting: poll with LOCK_NB instead, backing off up to 50 ms.
 * `onWait` is called once if the lock is busy. Null if `stop()` turned true while waiting (the
 * invocation was cancelled before its task started).
 */
export function acquireLock(path: string, onWait: () => void): Promise<Lock>;
export function acquireLock(path: string, onWait: () => void, stop: () => boolean): Promise<Lock | null>;
export async function acquireLock(path: string, onWait: () => void, stop: () => boolean = () => false): Promise<Lock | null> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o666);
  } catch (e) {
    try {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o666);
    } catch (e2) {
      throw new StateWriteError(path, "open the lock file", e2);
    }
  }
  let delay = 1;
  let told = false;
  while (!tryFlock(fd, LOCK_EX)) {
    if (stop()) {
      closeSync(fd);
      return null;
    }
    if (!told) {
      told = true;
      onWait();
    }
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
  return { release: () => closeSync(fd) };
}
