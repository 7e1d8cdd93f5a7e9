// The synchronous file operations of the runner's own path (state files, logs, locks, input
// hashing), on libc through bun:ffi, with the names and behaviour of their node:fs namesakes.
//
// Why not node:fs: importing it costs every start 0.8 ms and 3.4 MiB of resident memory
// (measured in a compiled executable that already uses bun:ffi and Bun.spawn), about a tenth of
// the whole no-op's time and the margin of its 40 MiB budget. libc is opened anyway (pipes,
// locks), so each of these is one call. Modules loaded only when needed (the remote and local
// caches, archives, --trace, --explain) keep node:fs.
//
// Errors are thrown as node:fs's are: an Error with `code` ("ENOENT"...), `errno`, `syscall`
// and `path`, and the message "CODE: text, syscall 'path'", so callers and their messages stay
// as they were.
import { CString, ptr, read, type Pointer } from "bun:ffi";
import { cMemory, cString, cView, errno, libc, statxAt } from "./libc.ts";
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, errnos, openFlags, STATX_SIZE } from "./linux.ts";

/** open(2) flags (by architecture where they differ: see linux.ts), as node:fs's `constants`. */
export const constants = { ...openFlags, COPYFILE_EXCL: 1 } as const;

const { EINTR, ENOENT, ENOTDIR, EEXIST } = errnos;

// What each errno says, as libuv (and so node:fs) words it.
const TEXTS: Record<keyof typeof errnos, string> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EINTR: "interrupted system call",
  EIO: "i/o error",
  EBADF: "bad file descriptor",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "not enough memory",
  EACCES: "permission denied",
  EBUSY: "resource busy or locked",
  EEXIST: "file already exists",
  EXDEV: "cross-device link not permitted",
  ENOTDIR: "not a directory",
  EISDIR: "illegal operation on a directory",
  EINVAL: "invalid argument",
  ENFILE: "file table overflow",
  EMFILE: "too many open files",
  EFBIG: "file too large",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EPIPE: "broken pipe",
  ENAMETOOLONG: "name too long",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many symbolic links encountered",
  EDQUOT: "disk quota exceeded",
};
const ERRORS = new Map(Object.entries(errnos).map(([code, e]) => [e as number, [code, TEXTS[code as keyof typeof errnos]] as const]));

/** An error as node:fs throws it. */
export function fsError(e: number, syscall: string, path?: PathLike, dest?: PathLike): NodeJS.ErrnoException {
  const [code, text] = ERRORS.get(e) ?? [`E${e}`, `error ${e}`];
  const where = path === undefined ? "" : ` '${show(path)}'${dest === undefined ? "" : ` -> '${show(dest)}'`}`;
  const error = new Error(`${code}: ${text}, ${syscall}${where}`) as NodeJS.ErrnoException;
  error.code = code;
  error.errno = -e;
  error.syscall = syscall;
  if (path !== undefined) error.path = show(path);
  if (dest !== undefined) (error as { dest?: string }).dest = show(dest);
  return error;
}

export type PathLike = string | Uint8Array;
const show = (p: PathLike): string => (typeof p === "string" ? p : Buffer.from(p).toString("utf8"));

// An I/O buffer, statx scratch and utimensat's times, in C memory (see cMemory in libc.ts),
// made on first use. Paths go through libc.ts's two C-string slots.
const IO_BYTES = 65536;
let memory: { io: Pointer; ioView: Buffer; scratch: Pointer; times: Pointer; timesView: BigInt64Array } | null = null;

function mem() {
  if (memory === null) {
    const io = cMemory(IO_BYTES);
    const times = cMemory(32);
    memory = { io, ioView: cView(io, IO_BYTES), scratch: cMemory(STATX_SIZE), times, timesView: new BigInt64Array(cView(times, 32).buffer) };
  }
  return memory;
}

const cPath = (p: PathLike, slot: 0 | 1 = 0): Pointer => cString(p, slot, (long) => fsError(errnos.ENAMETOOLONG, "open", long));

/** Retries a call interrupted by a signal; -1 with errno otherwise is the caller's to throw. */
function retrying(call: () => number): number {
  for (;;) {
    const r = call();
    if (r !== -1 || errno() !== EINTR) return r;
  }
}

export function openSync(path: PathLike, flags: number, mode = 0o666): number {
  const fd = retrying(() => libc().open(cPath(path), flags | constants.O_CLOEXEC, mode));
  if (fd < 0) throw fsError(errno(), "open", path);
  return fd;
}

export function closeSync(fd: number): void {
  if (libc().close(fd) !== 0 && errno() !== EINTR) throw fsError(errno(), "close");
}

/** One write(2): the number of bytes written (maybe fewer than asked), as node's writeSync. */
export function writeSync(fd: number, data: string | Uint8Array, offset = 0, length?: number): number {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const n = length ?? bytes.length - offset;
  if (n === 0) return 0;
  const r = retrying(() => libc().write(fd, ptr(bytes, offset), n));
  if (r < 0) throw fsError(errno(), "write");
  return r;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

export function readFileSync(path: PathLike): Buffer;
export function readFileSync(path: PathLike, encoding: "utf8" | "latin1"): string;
export function readFileSync(path: PathLike, encoding?: "utf8" | "latin1"): Buffer | string {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    // Read in chunks through the C buffer, copied out: C never writes into JavaScript memory.
    const { io, ioView } = mem();
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const r = retrying(() => libc().read(fd, io, IO_BYTES));
      if (r < 0) throw fsError(errno(), "read");
      if (r === 0) break;
      chunks.push(Buffer.from(ioView.subarray(0, r)));
      length += r;
    }
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    return encoding === undefined ? data : data.toString(encoding);
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's content, or null when it cannot be read (missing, unreadable, a directory): for
 * state files, where each of those means "none yet".
 */
export function readFileOrNull(path: PathLike): Buffer | null;
export function readFileOrNull(path: PathLike, encoding: "utf8" | "latin1"): string | null;
export function readFileOrNull(path: PathLike, encoding?: "utf8" | "latin1"): Buffer | string | null {
  try {
    return encoding === undefined ? readFileSync(path) : readFileSync(path, encoding);
  } catch {
    return null;
  }
}

export function writeFileSync(path: PathLike, data: string | Uint8Array, options: { mode?: number; flag?: "w" | "wx" } = {}): void {
  const excl = options.flag === "wx" ? constants.O_EXCL : 0;
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | excl, options.mode ?? 0o666);
  try {
    writeAll(fd, typeof data === "string" ? Buffer.from(data) : data);
  } finally {
    closeSync(fd);
  }
}

/** What the runner uses of a stat. */
export interface Stat {
  mode: number;
  size: number;
  ino: number;
  dev: number;
  uid: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
}

const S_IFMT = 0o170000;
const scratch = (): Pointer => mem().scratch;

// Read with `read`: statx wrote the buffer (see lstatInto in libc.ts).
function statFromScratch(): Stat {
  const scratchPtr = scratch();
  const u32 = (at: number) => read.u32(scratchPtr, at);
  const sec = (at: number) => u32(at) + read.i32(scratchPtr, at + 4) * 4294967296;
  const ns = (at: number) => BigInt(sec(at)) * 1_000_000_000n + BigInt(u32(at + 8));
  const ms = (at: number) => sec(at) * 1000 + u32(at + 8) / 1e6;
  const mode = read.u16(scratchPtr, 28);
  const type = mode & S_IFMT;
  return {
    mode,
    uid: u32(20),
    ino: u32(32) + u32(36) * 4294967296,
    size: u32(40) + u32(44) * 4294967296,
    atimeMs: ms(64),
    ctimeMs: ms(96),
    mtimeMs: ms(112),
    atimeNs: ns(64),
    mtimeNs: ns(112),
    // As glibc's makedev(major, minor).
    dev: (u32(136) & 0xfffff000) * 4294967296 + (u32(136) & 0xfff) * 256 + (u32(140) & 0xffffff00) * 4096 + (u32(140) & 0xff),
    isFile: () => type === 0o100000,
    isDirectory: () => type === 0o040000,
    isSymbolicLink: () => type === 0o120000,
    isFIFO: () => type === 0o010000,
  };
}

function statAt(path: PathLike, follow: boolean, syscall: string): Stat | undefined {
  const e = statxAt(AT_FDCWD, cPath(path), follow ? 0 : AT_SYMLINK_NOFOLLOW, scratch());
  if (e === 0) return statFromScratch();
  if (e === ENOENT || e === ENOTDIR) return undefined;
  throw fsError(e, syscall, path);
}

/** stat(2); `throwIfNoEntry: false` gives undefined for a missing path (ENOENT, ENOTDIR). */
export function statSync(path: PathLike, options?: { throwIfNoEntry?: true }): Stat;
export function statSync(path: PathLike, options: { throwIfNoEntry: false }): Stat | undefined;
export function statSync(path: PathLike, options: { throwIfNoEntry?: boolean } = {}): Stat | undefined {
  const st = statAt(path, true, "stat");
  if (st === undefined && options.throwIfNoEntry !== false) throw fsError(ENOENT, "stat", path);
  return st;
}

export function lstatSync(path: PathLike, options?: { throwIfNoEntry?: true }): Stat;
export function lstatSync(path: PathLike, options: { throwIfNoEntry: false }): Stat | undefined;
export function lstatSync(path: PathLike, options: { throwIfNoEntry?: boolean } = {}): Stat | undefined {
  const st = statAt(path, false, "lstat");
  if (st === undefined && options.throwIfNoEntry !== false) throw fsError(ENOENT, "lstat", path);
  return st;
}

export function fstatSync(fd: number): Stat {
  const e = statxAt(fd, cPath(""), AT_EMPTY_PATH, scratch());
  if (e !== 0) throw fsError(e, "fstat");
  return statFromScratch();
}

export function existsSync(path: PathLike): boolean {
  try {
    return statAt(path, true, "stat") !== undefined;
  } catch {
    return false;
  }
}

export function mkdirSync(path: string, options: { recursive?: boolean; mode?: number } = {}): void {
  const mode = options.mode ?? 0o777;
  if (libc().mkdir(cPath(path), mode) === 0) return;
  const e = errno();
  if (!options.recursive) throw fsError(e, "mkdir", path);
  if (e === EEXIST) {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return;
    throw fsError(e, "mkdir", path);
  }
  if (e !== ENOENT) throw fsError(e, "mkdir", path);
  const parent = path.replace(/\/+[^/]*\/*$/, "");
  if (parent === "" || parent === path) throw fsError(e, "mkdir", path);
  mkdirSync(parent, options);
  if (libc().mkdir(cPath(path), mode) !== 0 && errno() !== EEXIST) throw fsError(errno(), "mkdir", path);
}

export function renameSync(from: PathLike, to: PathLike): void {
  if (libc().rename(cPath(from, 0), cPath(to, 1)) !== 0) throw fsError(errno(), "rename", from, to);
}

export function unlinkSync(path: PathLike): void {
  if (libc().unlink(cPath(path)) !== 0) throw fsError(errno(), "unlink", path);
}

/** Removes a file; with `force`, a missing one is fine. (Files only: the runner removes no directory on this path.) */
export function rmSync(path: PathLike, options: { force?: boolean } = {}): void {
  if (libc().unlink(cPath(path)) === 0) return;
  const e = errno();
  if (e === ENOENT && options.force) return;
  throw fsError(e, "rm", path);
}

/** Sets access and modification times, in seconds (fractions kept to the nanosecond) or Dates. */
export function utimesSync(path: PathLike, atime: number | Date, mtime: number | Date): void {
  const { times, timesView } = mem();
  const set = (i: number, t: number | Date) => {
    const ms = typeof t === "number" ? t * 1000 : t.getTime();
    const sec = Math.floor(ms / 1000);
    timesView[i] = BigInt(sec);
    timesView[i + 1] = BigInt(Math.round((ms - sec * 1000) * 1e6));
  };
  set(0, atime);
  set(2, mtime);
  if (libc().utimensat(AT_FDCWD, cPath(path), times, 0) !== 0) throw fsError(errno(), "utime", path);
}

/** The names in a directory, without "." and "..", in the order the file system gives. */
export function readdirSync(path: string): string[] {
  const dir = libc().opendir(cPath(path));
  if (dir === null) throw fsError(errno(), "scandir", path);
  const names: string[] = [];
  try {
    for (let entry = libc().readdir(dir); entry !== null; entry = libc().readdir(dir)) {
      // struct dirent: d_ino 8, d_off 8, d_reclen 2, d_type 1, then d_name.
      const name = new CString(entry, 19).toString();
      if (name !== "." && name !== "..") names.push(name);
    }
  } finally {
    libc().closedir(dir);
  }
  return names;
}

export function readlinkSync(path: PathLike): string;
export function readlinkSync(path: PathLike, options: { encoding: "buffer" }): Buffer;
export function readlinkSync(path: PathLike, options?: { encoding: "buffer" }): string | Buffer {
  const { io, ioView } = mem();
  const n = libc().readlink(cPath(path), io, IO_BYTES);
  if (n < 0) throw fsError(errno(), "readlink", path);
  const target = Buffer.from(ioView.subarray(0, n));
  return options?.encoding === "buffer" ? target : target.toString("utf8");
}

export function realpathSync(path: string): string {
  const p = libc().realpath(cPath(path), null);
  if (p === null) throw fsError(errno(), "lstat", path);
  try {
    return new CString(p).toString();
  } finally {
    libc().free(p);
  }
}

/** Copies a file's content (not its times or mode); COPYFILE_EXCL refuses an existing target. */
export function copyFileSync(from: PathLike, to: PathLike, flags = 0): void {
  try {
    writeFileSync(to, readFileSync(from), { flag: flags & constants.COPYFILE_EXCL ? "wx" : "w", mode: 0o666 });
  } catch (e) {
    throw fsError(-((e as NodeJS.ErrnoException).errno ?? -errnos.EIO), "copyfile", from, to);
  }
}
