// The Linux numbers that the libc calls of libc.ts and fs.ts pass and get back, in one place.
//
// Bun runs on Linux on x86-64 and aarch64 only, and the release executables are built for both
// (`npm run release`). Nearly every number here is the kernel's generic one (asm-generic), the
// same on both; where an architecture has its own header, the value is chosen by
// `process.arch`. test/unit/sys-fs.test.ts compares each number that node:fs or node:os also
// knows with theirs, on whichever architecture the tests run, and the calls that use the
// others (flock, the AT_* flags, statx) by what they do.

const arm64 = process.arch === "arm64";

/** open(2) flags, under node:fs's `constants` names. */
export const openFlags = {
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  // asm/fcntl.h: x86-64's 0o200000 is O_DIRECT on aarch64, which opens a file as readily as
  // a directory, and fails with EINVAL where direct I/O is not supported.
  O_DIRECTORY: arm64 ? 0o40000 : 0o200000,
  O_CLOEXEC: 0o2000000,
} as const;

/** errno values (asm-generic/errno-base.h and errno.h; x86-64 and aarch64 both use them). */
export const errnos = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  ELOOP: 40,
  EDQUOT: 122,
} as const;

/** flock(2) operations. */
export const LOCK_EX = 2;
export const LOCK_NB = 4;

/** The *at(2) calls' "relative to the working directory" and their flags (fcntl.h). */
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;

/** statx(2): ask for what stat(2) gives; its struct statx is 256 bytes, the same layout everywhere. */
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_SIZE = 256;

/**
 * ioprio_get(2), which glibc has no wrapper for: its system call number (x86-64 has a table of
 * its own, asm/unistd_64.h; aarch64 the generic one) and its "one process" target.
 */
export const SYS_IOPRIO_GET = arm64 ? 31 : 252;
export const IOPRIO_WHO_PROCESS = 1;
