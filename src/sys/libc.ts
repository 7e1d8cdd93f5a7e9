import { dlopen, FFIType, ptr } from "bun:ffi";

// Bun has no API for real pipes (its "pipe" stdio is a socketpair, which breaks /dev/stdout in
// tasks) nor for flock(2); both come from libc. dlopen costs ~0.3 ms, so it is done on first use.
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
/** flock(2) operations. */
export const LOCK_EX = 2;
export const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

type Lib = ReturnType<typeof open>;
let lib: Lib | undefined;

function open() {
  return dlopen("libc.so.6", {
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

function libc(): Lib {
  lib ??= open();
  return lib;
}

function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Int32Array(require("bun:ffi").toArrayBuffer(p, 0, 4))[0]!;
}

/** A real pipe (both ends close-on-exec): [readFd, writeFd]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  if (libc().pipe2(ptr(fds), O_CLOEXEC) !== 0) throw new Error(`pipe2 failed (errno ${errno()})`);
  return [fds[0]!, fds[1]!];
}

/** Non-blocking flock: true if taken, false if another holder has it; throws on other errors. */
export function tryFlock(fd: number, op: number): boolean {
  for (;;) {
    if (libc().flock(fd, op | LOCK_NB) === 0) return true;
    const e = errno();
    if (e === EWOULDBLOCK) return false;
    if (e !== EINTR) throw new Error(`flock failed (errno ${e})`);
  }
}

export { O_NONBLOCK };
