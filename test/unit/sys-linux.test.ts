// The kernel numbers of src/sys/linux.ts against what the platform running the tests says: the
// values node:fs and node:os also have are compared with theirs, the others by what the calls
// do with them. So a number right on x86-64 but wrong on aarch64 (O_DIRECTORY was) fails here
// when the tests run on aarch64; `.ci/run` runs this file with the arm64 release under qemu.
import { test, expect, afterAll } from "bun:test";
import * as node from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import * as ours from "../../src/sys/fs.ts";
import { errnos, openFlags } from "../../src/sys/linux.ts";
import { ioPriority, LOCK_EX, pipe, tryFlock } from "../../src/sys/libc.ts";

const ROOT = node.realpathSync(node.mkdtempSync(join(tmpdir(), "taskrunner-sys-linux-")));
afterAll(() => node.rmSync(ROOT, { recursive: true, force: true }));
const file = join(ROOT, "file");
node.writeFileSync(file, "x\n");

// node:fs does not name O_CLOEXEC (it opens everything close-on-exec): checked below by the flags.
const inNode = Object.keys(openFlags).filter((name) => name !== "O_CLOEXEC");

test.each(inNode)(`open flag %s is node:fs's on ${process.arch}`, (name) => {
  expect<number>(ours.constants[name as keyof typeof openFlags]).toBe((node.constants as Record<string, number>)[name]!);
});

test("COPYFILE_EXCL is node:fs's", () => {
  expect<number>(ours.constants.COPYFILE_EXCL).toBe(node.constants.COPYFILE_EXCL);
});

test.each(Object.entries(errnos))(`errno %s is %d, as node:os says on ${process.arch}`, (name, value) => {
  expect((osConstants.errno as Record<string, number>)[name]).toBe(value);
});

test("errors carry node's code and errno for each number", () => {
  for (const [name, value] of Object.entries(errnos)) {
    const e = ours.fsError(value, "open", "p");
    expect([e.code, e.errno]).toEqual([name, -value]);
  }
});

/** The open file's flags as the kernel reports them (octal in /proc/self/fdinfo). */
function kernelFlags(fd: number): number {
  const line = node.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").split("\n").find((l) => l.startsWith("flags:"));
  return parseInt(line!.slice("flags:".length).trim(), 8);
}

test("descriptors from openSync and pipe are close-on-exec (O_CLOEXEC), opened with the flags asked for", () => {
  const fd = ours.openSync(file, ours.constants.O_WRONLY | ours.constants.O_APPEND);
  const [r, w] = pipe();
  try {
    for (const d of [fd, r, w]) expect(kernelFlags(d) & openFlags.O_CLOEXEC).toBe(openFlags.O_CLOEXEC);
    expect(kernelFlags(fd) & 0o3).toBe(ours.constants.O_WRONLY);
    expect(kernelFlags(fd) & ours.constants.O_APPEND).toBe(ours.constants.O_APPEND);
  } finally {
    for (const d of [fd, r, w]) ours.closeSync(d);
  }
});

test("O_DIRECTORY opens a directory and refuses a file", () => {
  const fd = ours.openSync(ROOT, ours.constants.O_RDONLY | ours.constants.O_DIRECTORY);
  ours.closeSync(fd);
  expect(() => ours.openSync(file, ours.constants.O_RDONLY | ours.constants.O_DIRECTORY)).toThrow("ENOTDIR");
});

test("flock: LOCK_EX is exclusive between open files, LOCK_NB reports a held lock (EWOULDBLOCK) as false", () => {
  const a = ours.openSync(file, ours.constants.O_RDWR);
  const b = ours.openSync(file, ours.constants.O_RDWR);
  let aOpen = true;
  try {
    expect(tryFlock(a, LOCK_EX)).toBe(true);
    expect(tryFlock(b, LOCK_EX)).toBe(false);
    ours.closeSync(a);
    aOpen = false;
    expect(tryFlock(b, LOCK_EX)).toBe(true);
  } finally {
    if (aOpen) ours.closeSync(a);
    ours.closeSync(b);
  }
});

test("the *at flags: a relative path is from the working directory (AT_FDCWD), lstat does not follow (AT_SYMLINK_NOFOLLOW), fstat (AT_EMPTY_PATH)", () => {
  node.symlinkSync("file", join(ROOT, "link"));
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    expect(ours.statSync("file").size).toBe(2);
    expect([ours.lstatSync("link").isSymbolicLink(), ours.statSync("link").isFile()]).toEqual([true, true]);
  } finally {
    process.chdir(cwd);
  }
  const fd = ours.openSync(file, ours.constants.O_RDONLY);
  try {
    expect(ours.fstatSync(fd).ino).toBe(node.statSync(file).ino);
  } finally {
    ours.closeSync(fd);
  }
});

test("ioprio_get (its system call number on this architecture) reads another process's I/O priority", async () => {
  // The class is in the bits from 13 up, the level below (linux/ioprio.h). The idle class has
  // no level (kernels report 0 or 7).
  const cases = [
    { args: ["-c", "3"], class: 3, level: null },
    { args: ["-c", "2", "-n", "5"], class: 2, level: 5 },
  ];
  for (const c of cases) {
    const child = Bun.spawn(["ionice", ...c.args, "sleep", "30"]);
    try {
      // ionice sets the priority, then execs sleep in the same process: wait for the exec.
      while (node.readFileSync(`/proc/${child.pid}/comm`, "utf8").trim() !== "sleep") await Bun.sleep(1);
      const priority = ioPriority(child.pid)!;
      expect(priority >> 13).toBe(c.class);
      if (c.level !== null) expect(priority & ((1 << 13) - 1)).toBe(c.level);
    } finally {
      child.kill();
    }
  }
  expect(ioPriority(2 ** 30)).toBeNull();
});
