// src/sys/fs.ts against node:fs, call by call: the same results and the same errors (code and
// message), so that the modules moved off node:fs behave as before.
import { test, expect, beforeAll, afterAll } from "bun:test";
import * as node from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ours from "../../src/sys/fs.ts";

const ROOT = node.realpathSync(node.mkdtempSync(join(tmpdir(), "taskrunner-sys-fs-")));
const p = (name: string) => join(ROOT, name);
beforeAll(() => {
  node.writeFileSync(p("file"), "hello\n");
  node.writeFileSync(p("empty"), "");
  node.writeFileSync(p("big"), Buffer.alloc(300_000, 7));
  node.mkdirSync(p("dir"));
  for (const n of ["b", "a", "ü é", "line\nbreak"]) node.writeFileSync(join(p("dir"), n), n);
  node.symlinkSync("file", p("link"));
  node.symlinkSync("nowhere", p("dangling"));
  node.writeFileSync(p("locked"), "x", { mode: 0o000 });
});
afterAll(() => node.rmSync(ROOT, { recursive: true, force: true }));

/** What a call gives: its value, or its error's code and message. */
function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { code: err.code, message: err.message };
  }
}

const root = process.getuid?.() === 0;

test.each([
  ["readFileSync", (fs: typeof ours) => fs.readFileSync(p("file"), "utf8")],
  ["readFileSync, empty", (fs: typeof ours) => fs.readFileSync(p("empty")).length],
  ["readFileSync, bigger than a read", (fs: typeof ours) => Bun.hash(fs.readFileSync(p("big")))],
  ["readFileSync through a symlink", (fs: typeof ours) => fs.readFileSync(p("link"), "latin1")],
  ["readFileSync, missing", (fs: typeof ours) => fs.readFileSync(p("missing"))],
  ["readFileSync, a directory", (fs: typeof ours) => fs.readFileSync(p("dir"))],
  ["readFileSync under a file", (fs: typeof ours) => fs.readFileSync(join(p("file"), "x"))],
  ["statSync, missing, no throw", (fs: typeof ours) => fs.statSync(p("missing"), { throwIfNoEntry: false })],
  ["statSync, missing", (fs: typeof ours) => fs.statSync(p("missing"))],
  ["lstatSync, dangling link", (fs: typeof ours) => fs.lstatSync(p("dangling")).isSymbolicLink()],
  ["statSync, dangling link", (fs: typeof ours) => fs.statSync(p("dangling"), { throwIfNoEntry: false })],
  ["existsSync", (fs: typeof ours) => [fs.existsSync(p("file")), fs.existsSync(p("dangling")), fs.existsSync(p("dir"))]],
  ["readlinkSync", (fs: typeof ours) => fs.readlinkSync(p("link"))],
  ["readlinkSync, not a link", (fs: typeof ours) => fs.readlinkSync(p("file"))],
  ["realpathSync", (fs: typeof ours) => fs.realpathSync(p("link"))],
  ["realpathSync, dangling", (fs: typeof ours) => fs.realpathSync(p("dangling"))],
  ["readdirSync", (fs: typeof ours) => fs.readdirSync(p("dir")).sort()],
  ["readdirSync, missing", (fs: typeof ours) => fs.readdirSync(p("missing"))],
  ["mkdirSync, exists", (fs: typeof ours) => fs.mkdirSync(p("dir"))],
  ["mkdirSync, under a file", (fs: typeof ours) => fs.mkdirSync(join(p("file"), "sub"), { recursive: true })],
  ["renameSync, missing", (fs: typeof ours) => fs.renameSync(p("missing"), p("other"))],
  ["unlinkSync, missing", (fs: typeof ours) => fs.unlinkSync(p("missing"))],
  ...(root ? [] : [["readFileSync, no permission", (fs: typeof ours) => fs.readFileSync(p("locked"))] as const]),
] as [string, (fs: typeof ours) => unknown][])("%s as node:fs", (_, call) => {
  expect(outcome(() => call(ours))).toEqual(outcome(() => call(node as unknown as typeof ours)));
});

test("stat fields as node:fs gives them", () => {
  for (const name of ["file", "dir", "link", "big"]) {
    const a = ours.lstatSync(p(name));
    const b = node.lstatSync(p(name), { bigint: true });
    const n = node.lstatSync(p(name));
    expect({ mode: a.mode, size: a.size, ino: a.ino, dev: a.dev, mtimeNs: a.mtimeNs, dir: a.isDirectory(), file: a.isFile() }).toEqual({
      mode: n.mode, size: n.size, ino: n.ino, dev: n.dev, mtimeNs: b.mtimeNs, dir: n.isDirectory(), file: n.isFile(),
    });
    expect(Math.abs(a.mtimeMs - n.mtimeMs)).toBeLessThan(0.001);
    expect(Math.abs(a.ctimeMs - n.ctimeMs)).toBeLessThan(0.001);
  }
  const fd = ours.openSync(p("file"), ours.constants.O_RDONLY);
  expect(ours.fstatSync(fd).size).toBe(6);
  ours.closeSync(fd);
});

test("writing: files, appends, renames, times, recursive directories, exclusive copies", () => {
  ours.mkdirSync(p("x/y/z"), { recursive: true });
  ours.mkdirSync(p("x/y/z"), { recursive: true });
  ours.writeFileSync(p("x/y/z/f"), "one", { mode: 0o640 });
  expect(node.statSync(p("x/y/z/f")).mode & 0o777).toBe(0o640 & ~process.umask());
  const fd = ours.openSync(p("x/y/z/f"), ours.constants.O_WRONLY | ours.constants.O_APPEND);
  expect(ours.writeSync(fd, " two")).toBe(4);
  expect(ours.writeSync(fd, Buffer.from("..three"), 2, 5)).toBe(5);
  ours.closeSync(fd);
  expect(node.readFileSync(p("x/y/z/f"), "utf8")).toBe("one twothree");
  ours.renameSync(p("x/y/z/f"), p("x/g"));
  ours.utimesSync(p("x/g"), 1_700_000_000.25, new Date(1_600_000_000_500));
  const st = node.statSync(p("x/g"), { bigint: true });
  expect([st.atimeNs, st.mtimeNs]).toEqual([1_700_000_000_250_000_000n, 1_600_000_000_500_000_000n]);
  ours.copyFileSync(p("x/g"), p("x/h"), ours.constants.COPYFILE_EXCL);
  expect(node.readFileSync(p("x/h"), "utf8")).toBe("one twothree");
  expect(outcome(() => ours.copyFileSync(p("x/g"), p("x/h"), ours.constants.COPYFILE_EXCL))).toEqual(
    outcome(() => node.copyFileSync(p("x/g"), p("x/h"), node.constants.COPYFILE_EXCL)),
  );
  ours.rmSync(p("x/h"));
  ours.rmSync(p("x/h"), { force: true });
  expect(node.existsSync(p("x/h"))).toBe(false);
  // Paths as bytes (not UTF-8) work too.
  const bytes = Buffer.concat([Buffer.from(`${ROOT}/`), Buffer.from([0x66, 0xff])]);
  ours.writeFileSync(bytes, "raw");
  expect(ours.readFileSync(bytes, "utf8")).toBe("raw");
});

test("readFileOrNull: the content, or null for a missing file, a directory or a file under a file", () => {
  expect(ours.readFileOrNull(p("file"), "utf8")).toBe("hello\n");
  expect(ours.readFileOrNull(p("file"))?.length).toBe(6);
  expect([ours.readFileOrNull(p("missing")), ours.readFileOrNull(p("dir"), "utf8"), ours.readFileOrNull(join(p("file"), "x"))]).toEqual([null, null, null]);
});
