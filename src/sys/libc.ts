import { dlopen, FFIType, read, toArrayBuffer, type Pointer } from "bun:ffi";
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, errnos, IOPRIO_WHO_PROCESS, LOCK_EX, LOCK_NB, openFlags, STATX_BASIC_STATS, SYS_IOPRIO_GET } from "./linux.ts";

// Bun has no API for real pipes (its "pipe" stdio is a socketpair, which breaks /dev/stdout in
// tasks) nor for flock(2); both come from libc. dlopen costs ~0.3 ms, so it is done on first use.
// statx(2) relative to an open directory is here because node:fs's lstat costs about twice the
// system call in object creation, on a path that stats every input file (stat-fingerprint.ts).
// The numbers these calls take and return are in linux.ts, chosen by architecture where they differ.

export { LOCK_EX };
const { EAGAIN, EINTR, ENOENT, ENOTDIR } = errnos;

type Lib = ReturnType<typeof open>;
let lib: Lib | undefined;

function open() {
  return dlopen("libc.so.6", {
    pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
    statx: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr], returns: FFIType.i32 },
    // For sys/fs.ts, the file operations of the no-op path.
    open: { args: [FFIType.ptr, FFIType.i32, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    // ssize_t results read as int: every call asks for less than 2 GiB.
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
    rename: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    unlink: { args: [FFIType.ptr], returns: FFIType.i32 },
    mkdir: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    utimensat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    opendir: { args: [FFIType.ptr], returns: FFIType.ptr },
    readdir: { args: [FFIType.ptr], returns: FFIType.ptr },
    closedir: { args: [FFIType.ptr], returns: FFIType.i32 },
    readlink: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
    isatty: { args: [FFIType.i32], returns: FFIType.i32 },
    realpath: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.ptr },
    free: { args: [FFIType.ptr], returns: FFIType.void },
    malloc: { args: [FFIType.u64], returns: FFIType.ptr },
  }).symbols;
}

/**
 * Memory that C writes into is C memory (malloc), never a typed array's: measured here, a
 * pointer kept from `ptr(new Uint32Array(64))` went on receiving statx results after the engine
 * had put other data there (a walk's records turned into another file's stat), and one kept
 * from a small ArrayBuffer crashed the collector. JavaScript writes into C memory through a
 * view (`cView`); what C wrote is read with bun:ffi's `read`, or copied or hashed natively:
 * typed-array loads of it may be served stale by the JIT (see lstatInto). Lives as long as the
 * process unless freed with `freeMemory`.
 */
export function cMemory(bytes: number): Pointer {
  const p = libc().malloc(bytes);
  if (p === null) throw new Error(`malloc(${bytes}) failed`);
  return p as Pointer;
}

export function freeMemory(p: Pointer): void {
  libc().free(p);
}

/** A byte view of C memory, for writing into it (or copying and hashing it natively). */
export function cView(p: Pointer, bytes: number): Buffer {
  return Buffer.from(toArrayBuffer(p, 0, bytes));
}

/** The libc functions, opened on first use. */
export function libc(): Lib {
  lib ??= open();
  return lib;
}

/** errno of the last failed call (read with `read`, see lstatInto). */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : read.i32(p, 0);
}

/** A real pipe (both ends close-on-exec): [readFd, writeFd]. */
export function pipe(): [number, number] {
  const fds = cMemory(8);
  try {
    if (libc().pipe2(fds, openFlags.O_CLOEXEC) !== 0) throw new Error(`pipe2 failed (errno ${errno()})`);
    return [read.i32(fds, 0), read.i32(fds, 4)];
  } finally {
    freeMemory(fds);
  }
}

/** Whether `fd` is a terminal (isatty(3): the TCGETS ioctl), without loading node:tty. */
export function isTerminal(fd: number): boolean {
  return libc().isatty(fd) === 1;
}

/** Non-blocking flock: true if taken, false if another holder has it; throws on other errors. */
export function tryFlock(fd: number, op: number): boolean {
  for (;;) {
    if (libc().flock(fd, op | LOCK_NB) === 0) return true;
    const e = errno();
    if (e === EAGAIN) return false; // EWOULDBLOCK is EAGAIN on Linux
    if (e !== EINTR) throw new Error(`flock failed (errno ${e})`);
  }
}

// syscall(2), for the one call glibc has no wrapper for. Only served nested calls need it, so it
// is opened apart, on their first use, and the start of every run binds no more symbols.
let sys: ReturnType<typeof openSyscall> | undefined;

function openSyscall() {
  return dlopen("libc.so.6", { syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 } }).symbols;
}

/** The I/O priority of process `pid` (ioprio_get(2): class and level in one number), or null. */
export function ioPriority(pid: number): number | null {
  sys ??= openSyscall();
  const r = Number(sys.syscall(SYS_IOPRIO_GET, IOPRIO_WHO_PROCESS, pid));
  return r < 0 ? null : r;
}

// newlocale(3), for the early snapshot decision (task/early-snapshot.ts): opened apart on first
// use, like syscall above.
let locales: ReturnType<typeof openLocales> | undefined;

function openLocales() {
  return dlopen("libc.so.6", {
    newlocale: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.ptr },
    freelocale: { args: [FFIType.ptr], returns: FFIType.void },
  }).symbols;
}

// glibc's LC_ALL_MASK: every category bit but LC_ALL's own (6).
const LC_ALL_MASK = 0x1fbf;

/** Whether the C library can load locale `name` for every category (what setlocale would find), without changing this process's locale. */
export function localeInstalled(name: string): boolean {
  locales ??= openLocales();
  const l = locales.newlocale(LC_ALL_MASK, cString(name), null);
  if (l === null) return false;
  locales.freelocale(l);
  return true;
}

/** The longest path (bytes) a C string here takes. */
export const PATH_ROOM = 8190;
let pathMemory: [Pointer, Buffer][] | null = null;

/**
 * `p` as a NUL-terminated string in C memory reused by every call (no allocation per file);
 * two slots, for calls that take two paths. Throws `tooLong(p)` for a path over PATH_ROOM bytes.
 */
export function cString(p: string | Uint8Array, slot: 0 | 1 = 0, tooLong: (p: string | Uint8Array) => Error = defaultTooLong): Pointer {
  pathMemory ??= [0, 1].map((): [Pointer, Buffer] => {
    const at = cMemory(PATH_ROOM + 2);
    return [at, cView(at, PATH_ROOM + 2)];
  });
  const [at, view] = pathMemory[slot]!;
  let n: number;
  if (typeof p === "string") n = view.write(p, 0, PATH_ROOM + 1, "utf8");
  else {
    n = Math.min(p.length, PATH_ROOM + 1);
    view.set(p.subarray(0, n));
  }
  if (n > PATH_ROOM) throw tooLong(p);
  view[n] = 0;
  return at;
}

const defaultTooLong = (p: string | Uint8Array): Error => new Error(`path too long: ${String(p).slice(0, 100)}...`);

/**
 * lstat of `name` relative to `dirFd` (or an absolute path with dirFd null), the struct statx
 * (STATX_SIZE bytes) written at the address `dest`; read it with bun:ffi's `read` or hash it natively,
 * never through a typed array the JIT may have read before. True, or false if it does not
 * exist (ENOENT, ENOTDIR; nothing is written then). Other errors throw. `followSymlink` makes
 * it a stat.
 */
export function lstatInto(dirFd: number | null, name: string, dest: Pointer, followSymlink = false): boolean {
  const e = statxAt(dirFd ?? AT_FDCWD, cString(name), followSymlink ? 0 : AT_SYMLINK_NOFOLLOW, dest);
  if (e === 0) return true;
  if (e === ENOENT || e === ENOTDIR) return false;
  throw Object.assign(new Error(`statx ${name} failed (errno ${e})`), { errno: e, path: name });
}

/** statx(2) of the C string at `path` into `dest`: 0, or the errno. */
export function statxAt(dirFd: number, path: Pointer, flags: number, dest: Pointer): number {
  return libc().statx(dirFd, path, flags, STATX_BASIC_STATS, dest) === 0 ? 0 : errno();
}
