import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packArchive, unpackArchive } from "../../src/cache/archive.ts";
import { checkMemberName, checkPackPath, checkSymlinkTarget, parseTarNumber, STAGING_PREFIX, ZstdFrameSplitter } from "../../src/cache/archive-paths.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) {
    spawnSync("chmod", ["-R", "u+rwx", dir]); // read-only dirs of the kinds tree, when not root
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
function tmp(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(join(tmpdir(), "taskrunner-archive-test-")));
  made.push(dir);
  return dir;
}

/** Every entry under `dir` (not following symlinks): type, mode, content hash or link target. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(join(dir, rel)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const st = fs.lstatSync(join(dir, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[path] = `symlink -> ${fs.readlinkSync(join(dir, path))}`;
      else if (st.isDirectory()) {
        out[path] = `dir ${mode}`;
        walk(path);
      } else out[path] = `file ${mode} ${st.size} ${createHash("sha256").update(fs.readFileSync(join(dir, path))).digest("hex").slice(0, 16)}`;
    }
  };
  walk("");
  return out;
}

function sh(script: string, cwd?: string): string {
  const r = spawnSync("bash", ["-c", script], { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return r.stdout;
}

async function packToBuffer(root: string, paths: string[]): Promise<Buffer> {
  const packed = packArchive(root, paths);
  const chunks: Buffer[] = [];
  for await (const c of packed.stream) chunks.push(c as Buffer);
  expect(await packed.done).toEqual({ ok: true, value: undefined });
  return Buffer.concat(chunks);
}

/** Feeds a buffer in small pieces, as a network body would. */
async function* pieces(buf: Uint8Array, size = 16 * 1024): AsyncIterable<Uint8Array> {
  for (let at = 0; at < buf.length; at += size) yield buf.subarray(at, at + size);
}

function requireZstd(): void {
  if (Bun.which("zstd") === null) throw new Error("the zstd binary is needed for the interop tests: install it (apt-get install zstd)");
}

const LONG_DIR = ["a".repeat(60), "b".repeat(60), "c".repeat(60), "d".repeat(60)].join("/");

/** A tree with every kind of entry an output may hold. */
function makeKinds(root: string): string[] {
  const w = (path: string, data: string | Uint8Array, mode = 0o644) => {
    fs.mkdirSync(join(root, path, ".."), { recursive: true });
    fs.writeFileSync(join(root, path), data, { mode });
    fs.chmodSync(join(root, path), mode);
  };
  w("reg.txt", "regular\n");
  w("exec.sh", "#!/bin/sh\necho hi\n", 0o755);
  w("private.txt", "secret\n", 0o600);
  w("empty", "");
  fs.mkdirSync(join(root, "emptydir"));
  fs.mkdirSync(join(root, "closed"), { mode: 0o700 });
  fs.chmodSync(join(root, "closed"), 0o700);
  w("a/b/c/deep.txt", "deep\n");
  w("readonly/inner.txt", "in a read-only dir\n");
  fs.chmodSync(join(root, "readonly"), 0o555);
  w("random.bin", new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24));
  fs.mkdirSync(join(root, "links"));
  fs.symlinkSync("../reg.txt", join(root, "links/rel"));
  fs.symlinkSync("../a", join(root, "links/dir"));
  fs.symlinkSync("missing-target", join(root, "links/dangling"));
  fs.linkSync(join(root, "reg.txt"), join(root, "links/hard.txt"));
  w("names/with space.txt", "space\n");
  w("names/new\nline.txt", "newline\n");
  w("names/ünïcødé 日本.txt", "unicode\n");
  w("names/back\\slash.txt", "backslash\n");
  w("-dash-leading.txt", "dash\n");
  w(`${LONG_DIR}/${"e".repeat(80)}.txt`, "long path (> 255 bytes)\n");
  w(`${"f".repeat(99)}/${"g".repeat(20)}.txt`, "long path (> 100 bytes)\n");
  return ["reg.txt", "exec.sh", "private.txt", "empty", "emptydir", "closed", "a", "readonly", "random.bin", "links", "names", "-dash-leading.txt", LONG_DIR.split("/")[0]!, "f".repeat(99)];
}

describe("round trip", () => {
  test("every kind of entry comes back with its content, mode and link target", async () => {
    const src = tmp();
    const paths = makeKinds(src);
    const dest = tmp();
    const result = await unpackArchive(pieces(await packToBuffer(src, paths)), dest);
    expect(result.ok).toBe(true);
    expect(snapshot(dest)).toEqual(snapshot(src));
    expect(fs.statSync(join(dest, "links/hard.txt")).ino).toBe(fs.statSync(join(dest, "reg.txt")).ino);
  });

  test("a single output may be given by a nested path, and only it is packed", async () => {
    const src = tmp();
    makeKinds(src);
    const dest = tmp();
    expect((await unpackArchive(pieces(await packToBuffer(src, ["a/b/c/deep.txt", "links/rel"])), dest)).ok).toBe(true);
    expect(snapshot(dest)).toEqual({
      a: "dir 755",
      "a/b": "dir 755",
      "a/b/c": "dir 755",
      "a/b/c/deep.txt": snapshot(src)["a/b/c/deep.txt"]!,
      links: "dir 755",
      "links/rel": "symlink -> ../reg.txt",
    });
  });

  test("no outputs make an empty archive, which unpacks to nothing", async () => {
    const dest = tmp();
    expect(await unpackArchive(pieces(await packToBuffer(tmp(), [])), dest)).toEqual({ ok: true, value: { files: 0 } });
    expect(fs.readdirSync(dest)).toEqual([]);
  });

  test("a 100 MB file streams straight from pack into unpack", async () => {
    const src = tmp();
    const block = new Uint8Array(1 << 20).map((_, i) => (i * 2246822519) >>> 25);
    const fd = fs.openSync(join(src, "big.bin"), "w");
    for (let i = 0; i < 100; i++) {
      block[i] = i; // every MiB differs
      fs.writeSync(fd, block);
    }
    fs.closeSync(fd);
    const dest = tmp();
    const packed = packArchive(src, ["big.bin"]);
    const result = await unpackArchive(packed.stream, dest);
    expect(await packed.done).toEqual({ ok: true, value: undefined });
    expect(result).toEqual({ ok: true, value: { files: 1 } });
    expect(snapshot(dest)).toEqual(snapshot(src));
  });

  test("packing the whole root leaves out unpack staging directories", async () => {
    const src = tmp();
    fs.writeFileSync(join(src, "x.txt"), "x");
    fs.mkdirSync(join(src, `${STAGING_PREFIX}stale`));
    fs.writeFileSync(join(src, `${STAGING_PREFIX}stale`, "junk"), "junk");
    const dest = tmp();
    expect((await unpackArchive(pieces(await packToBuffer(src, ["."])), dest)).ok).toBe(true);
    expect(Object.keys(snapshot(dest))).toEqual(["x.txt"]);
  });
});

describe("interop with GNU tar and zstd", () => {
  test("archives made by `tar -c | zstd -3` (GNU and POSIX formats) unpack", async () => {
    requireZstd();
    const src = tmp();
    makeKinds(src);
    for (const format of ["gnu", "posix"]) {
      const file = join(tmp(), "shell.tar.zst");
      sh(`tar -c --format=${format} -C '${src}' . | zstd -q -3 > '${file}'`);
      const dest = tmp();
      expect((await unpackArchive(fs.createReadStream(file), dest)).ok).toBe(true);
      expect(snapshot(dest)).toEqual(snapshot(src));
    }
  });

  test("our archive unpacks with `tar --zstd -x` (and an empty one lists)", async () => {
    requireZstd();
    const src = tmp();
    const paths = makeKinds(src);
    const dir = tmp();
    fs.writeFileSync(join(dir, "ours.tar.zst"), await packToBuffer(src, paths));
    fs.mkdirSync(join(dir, "out"));
    sh(`tar --zstd -x -f ours.tar.zst -C out && zstd -q -t ours.tar.zst`, dir);
    expect(snapshot(join(dir, "out"))).toEqual(snapshot(src));
    fs.writeFileSync(join(dir, "empty.tar.zst"), await packToBuffer(src, []));
    expect(sh("tar --zstd -t -f empty.tar.zst", dir)).toBe("");
  });
});

// Raw tar writing for archives GNU tar would not make. Fields per POSIX ustar / GNU tar docs.
type Member = { name: string; type?: string; link?: string; data?: string; prefix?: string; posix?: boolean; mode?: number };
function tarHeader(m: Member & { size: number }): Buffer {
  const h = Buffer.alloc(512);
  const octal = (at: number, len: number, n: number) => h.write(`${n.toString(8).padStart(len - 1, "0")}\0`, at, len, "latin1");
  h.write(m.name, 0, 100, "utf8");
  octal(100, 8, m.mode ?? 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, m.size);
  octal(136, 12, 1700000000);
  h.write(m.type ?? "0", 156, 1, "latin1");
  h.write(m.link ?? "", 157, 100, "utf8");
  if (m.posix || m.prefix !== undefined) {
    h.write("ustar\u000000", 257, 8, "latin1");
    h.write(m.prefix ?? "", 345, 155, "utf8");
  } else h.write("ustar  \u0000", 257, 8, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return h;
}
function member(m: Member): Buffer {
  const data = Buffer.from(m.data ?? "");
  return Buffer.concat([tarHeader({ ...m, size: data.length }), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const gnuLongName = (name: string, type = "L") => member({ name: "././@LongLink", type, data: `${name}\0` });
function pax(records: Record<string, string>): Buffer {
  let body = "";
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
    body += `${len}${rest}`;
  }
  return member({ name: "PaxHeaders/x", type: "x", data: body, posix: true });
}
const tarOf = (...members: Buffer[]) => Buffer.concat([...members, Buffer.alloc(10240)]);
const zst = (tar: Uint8Array) => Bun.zstdCompressSync(tar, { level: 3 });

/** A root with content, inside a sandbox with an `outside` dir; the sandbox is compared whole. */
function sandbox(): { box: string; root: string } {
  const box = tmp();
  const root = join(box, "a", "root");
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(join(box, "outside"));
  fs.writeFileSync(join(root, "keep.txt"), "keep");
  fs.writeFileSync(join(box, "x"), "outside file");
  return { box, root };
}

async function expectRefused(archive: Uint8Array, why: RegExp): Promise<void> {
  const { box, root } = sandbox();
  const before = snapshot(box);
  const result = await unpackArchive(pieces(archive, 100), root);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatch(why);
  expect(snapshot(box)).toEqual(before); // nothing written anywhere, no staging left in the root
}

describe("hostile archives are refused whole", () => {
  const ok1 = member({ name: "good-before.txt", data: "fine" });
  const ok2 = member({ name: "good-after.txt", data: "fine" });
  const cases: [string, Buffer, RegExp][] = [
    ["a member ../evil", tarOf(ok1, member({ name: "../evil", data: "x" }), ok2), /"\.\.\/evil" has a "\.\." component/],
    ["an absolute member /abs/evil", tarOf(ok1, member({ name: "/abs/evil", data: "x" })), /"\/abs\/evil" has an absolute path/],
    ["a member a/../../evil", tarOf(member({ name: "a/../../evil", data: "x" })), /has a "\.\." component/],
    ["a GNU long name ../xxx…", tarOf(ok1, gnuLongName(`../${"x".repeat(120)}`), member({ name: "x".repeat(100), data: "x" })), /has a "\.\." component/],
    ["a pax path ../evil behind a harmless header name", tarOf(ok1, pax({ path: "../evil" }), member({ name: "harmless", data: "x" })), /"\.\.\/evil" has a "\.\." component/],
    ["a ustar prefix ..", tarOf(member({ name: "evil", prefix: "..", data: "x" })), /"\.\.\/evil" has a "\.\." component/],
    ["a symlink link -> ../../outside, then link/x", tarOf(ok1, member({ name: "link", type: "2", link: "../../outside" }), member({ name: "link/x", data: "x" })), /symlink "link" -> "\.\.\/\.\.\/outside" points outside/],
    ["a symlink link -> /etc, then link/x", tarOf(member({ name: "link", type: "2", link: "/etc" }), member({ name: "link/x", data: "x" })), /has an absolute target/],
    ["a symlink link -> ..", tarOf(member({ name: "link", type: "2", link: ".." })), /points outside the cache root/],
    ["a symlink with a .. after a name", tarOf(member({ name: "d/u", type: "2", link: "." }), member({ name: "d/v", type: "2", link: "u/../.." })), /has a "\.\." after a name/],
    ["a GNU long link target /etc", tarOf(gnuLongName("/etc/passwd", "K"), member({ name: "link", type: "2", link: "/etc/pa" })), /has an absolute target/],
    ["a file through an inside symlink (link -> sub, then link/x)", tarOf(member({ name: "sub", type: "5" }), member({ name: "link", type: "2", link: "sub" }), member({ name: "link/x", data: "x" })), /lies under the symlink member "link"/],
    ["a hard link to ../x", tarOf(ok1, member({ name: "h", type: "1", link: "../x" })), /hard link "h" -> "\.\.\/x" is refused/],
    ["a hard link to /etc/passwd", tarOf(member({ name: "h", type: "1", link: "/etc/passwd" })), /hard link "h" -> "\/etc\/passwd" is refused/],
    ["a hard link to a symlink member", tarOf(member({ name: "a/s", type: "2", link: "../x" }), member({ name: "h", type: "1", link: "a/s" })), /points at or through a symlink member/],
    ["a FIFO", tarOf(member({ name: "fifo", type: "6" })), /FIFO/],
    ["a character device", tarOf(member({ name: "null", type: "3" })), /character device/],
    ["a member in the reserved staging name", tarOf(member({ name: `${STAGING_PREFIX}abc/x`, data: "x" })), /reserved name/],
  ];
  test.each(cases)("%s", async (_name, tar, why) => {
    await expectRefused(zst(tar), why);
  });

  test("GNU tar archives made with -P: an absolute member and a ../ member", async () => {
    const src = tmp();
    fs.writeFileSync(join(src, "f"), "x");
    const abs = spawnSync("tar", ["-c", "-P", "-f", "-", join(src, "f")]);
    await expectRefused(zst(abs.stdout), /has an absolute path/);
    const up = spawnSync("tar", ["-c", "-P", "--transform", "s,^,../,", "-f", "-", "-C", src, "f"]);
    await expectRefused(zst(up.stdout), /"\.\.\/f" has a "\.\." component/);
  });
});

describe("damaged archives are errors and change nothing", () => {
  test.each([0, 1, 7, 100, 0.5, -100, -5, -4, -1])("cut at %p", async (at) => {
    const src = tmp();
    makeKinds(src);
    const good = await packToBuffer(src, ["a", "random.bin", "reg.txt"]);
    const end = at > 0 && at < 1 ? Math.floor(good.length * at) : at < 0 ? good.length + at : at;
    await expectRefused(good.subarray(0, end), /empty|truncated|corrupt/);
  });

  test("garbage, junk after the data, a flipped byte, a tar without its end", async () => {
    const src = tmp();
    makeKinds(src);
    const good = await packToBuffer(src, ["random.bin", "reg.txt"]);
    await expectRefused(new Uint8Array(2000).map((_, i) => (i * 7919) % 251), /not zstd-compressed/);
    await expectRefused(Buffer.concat([good, Buffer.from("junk!")]), /junk after its zstd data/);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    await expectRefused(flipped, /corrupt/);
    await expectRefused(zst(new Uint8Array(4096).map((_, i) => i % 256)), /corrupt: bad tar header checksum/);
    await expectRefused(zst(member({ name: "f", data: "no end marker" })), /truncated/);
  });
});

/** The tar GNU tar makes of `paths` under `root`. */
function tarOfTree(root: string, paths: string[]): Buffer {
  const r = spawnSync("tar", ["-c", "--format=gnu", "-C", root, ...paths.map((p) => `./${p}`)], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return r.stdout;
}
/** Compresses `data` as one independent zstd frame per piece, cut at `cuts`. */
function framesOf(data: Uint8Array, cuts: number[]): Buffer[] {
  const bounds = [0, ...cuts, data.length];
  return bounds.slice(1).map((end, i) => Buffer.from(Bun.zstdCompressSync(data.subarray(bounds[i]!, end), { level: 3 })));
}
function skippable(size: number): Buffer {
  const frame = Buffer.alloc(8 + size, 0xab);
  frame.writeUInt32LE(0x184d2a53, 0);
  frame.writeUInt32LE(size, 4);
  return frame;
}
/** A tree of many small files and one random 12 MiB file (which compresses to more than 8 MiB). */
function makeMixed(root: string): string[] {
  for (let i = 0; i < 300; i++) fs.writeFileSync(join(root, `small-${i}.txt`), `file ${i}\n`.repeat(i * 37));
  fs.writeFileSync(join(root, "big.bin"), randomBytes(12 << 20));
  return fs.readdirSync(root);
}
function split(archive: Uint8Array, piece: number): { frames: Uint8Array[]; rest: Buffer | null } {
  const splitter = new ZstdFrameSplitter(8 << 20, 16 << 20); // as unpackArchive uses it
  const frames: Uint8Array[] = [];
  const rest: Uint8Array[] = [];
  for (let at = 0; at < archive.length; at += piece) {
    const r = splitter.push(archive.slice(at, at + piece));
    if (!r.ok) throw new Error(r.error);
    frames.push(...r.value.frames.map((f) => f.slice()));
    for (const f of r.value.frames) splitter.recycle(f);
    if (r.value.rest !== null) rest.push(...r.value.rest);
  }
  const last = splitter.finish();
  if (!last.ok) throw new Error(last.error);
  frames.push(...last.value);
  return { frames, rest: rest.length === 0 ? null : Buffer.concat(rest) };
}
/** Expects `pieces` to be `frames` in order, cut only between frames (small ones may be joined). */
function expectFrames(pieces: Uint8Array[], frames: Uint8Array[]): void {
  expect(Buffer.concat(pieces).equals(Buffer.concat(frames))).toBe(true);
  const ends = new Set<number>();
  let at = 0;
  for (const f of frames) ends.add((at += f.length));
  at = 0;
  for (const p of pieces) expect(ends.has((at += p.length))).toBe(true);
}

describe("independent frames are decoded in parallel, in order", () => {
  test("the splitter returns each zstd frame whole and in order, drops skippable ones, for any chunking", () => {
    const data = new Uint8Array(3 << 20).map((_, i) => (i * 7) ^ (i >>> 10));
    const frames = framesOf(data, [1, 100, 70000, 1 << 20, (1 << 20) + 1, 2 << 20]);
    const archive = Buffer.concat([skippable(5), frames[0]!, frames[1]!, skippable(0), ...frames.slice(2), skippable(3000)]);
    for (const piece of [1, 7, 100, 4096, 1 << 20, archive.length]) {
      const got = split(archive, piece);
      expect(got.rest).toBeNull();
      expectFrames(got.frames, frames);
      expect(got.frames.length).toBeLessThan(frames.length); // the small first ones joined
      expect(Buffer.concat(got.frames.map((f) => Bun.zstdDecompressSync(f))).equals(Buffer.from(data))).toBe(true);
    }
  });

  test("a tar in thousands of tiny frames is decoded in few pieces and unpacks exactly", async () => {
    const src = tmp();
    const paths = makeKinds(src);
    const tar = tarOfTree(src, paths);
    const frames = framesOf(tar, Array.from({ length: Math.floor((tar.length - 1) / 512) }, (_, i) => (i + 1) * 512));
    const archive = Buffer.concat(frames);
    const got = split(archive, 64 * 1024);
    expectFrames(got.frames, frames);
    expect(got.frames.length).toBeLessThan(frames.length / 100);
    const dest = tmp();
    expect(await unpackArchive(pieces(archive), dest)).toMatchObject({ ok: true });
    expect(snapshot(dest)).toEqual(snapshot(src));
  });

  test("a frame too large to hold whole ends the splitting: the rest goes to the streaming decoder", () => {
    const small = framesOf(new Uint8Array(300000).map((_, i) => i % 251), [100000, 200000]);
    // More than 8 MiB compressed (random bytes), and 16 MiB + 1 of zeros (a tiny frame that decodes to more than 16 MiB).
    const random = Buffer.from(Bun.zstdCompressSync(randomBytes(9 << 20)));
    const zeros = Buffer.from(Bun.zstdCompressSync(new Uint8Array((16 << 20) + 1)));
    expect(random.length).toBeGreaterThan(8 << 20);
    expect(zeros.length).toBeLessThan(4096);
    for (const big of [random, zeros, skippable(9 << 20)]) {
      const archive = Buffer.concat([...small.slice(0, 2), big, small[2]!]);
      for (const piece of [1000, 1 << 20]) {
        const got = split(archive, piece);
        expectFrames(got.frames, small.slice(0, 2));
        expect(got.rest?.equals(Buffer.concat([big, small[2]!]))).toBe(true);
      }
    }
  });

  test("a tar cut into many frames of odd sizes, between skippable frames, unpacks exactly", async () => {
    const src = tmp();
    const paths = makeKinds(src);
    const tar = tarOfTree(src, paths);
    const cuts = [1, 511, 512, 513, 5000, 70001, 300000, 300001, 900000].filter((c) => c < tar.length);
    const frames = framesOf(tar, cuts);
    const archive = Buffer.concat(frames.flatMap((f, i) => (i % 3 === 0 ? [skippable(i), f] : [f])));
    for (const piece of [100, 16 * 1024, 1 << 20]) {
      const dest = tmp();
      expect(await unpackArchive(pieces(archive, piece), dest)).toMatchObject({ ok: true });
      expect(snapshot(dest)).toEqual(snapshot(src));
    }
  });

  test("our multi-frame archive of a large tree unpacks exactly, also fed whole", async () => {
    const src = tmp();
    const paths = makeMixed(src);
    const archive = await packToBuffer(src, paths);
    expect(split(archive, 1 << 20).frames.length).toBeGreaterThan(5); // independent 2 MiB frames, none too large
    const dest = tmp();
    expect(await unpackArchive(pieces(archive, archive.length), dest)).toEqual({ ok: true, value: { files: paths.length } });
    expect(snapshot(dest)).toEqual(snapshot(src));
  });

  test("a big single-frame archive (`tar | zstd -3`) takes the streaming decoder, after small frames too", async () => {
    requireZstd();
    const src = tmp();
    const paths = makeMixed(src);
    const dir = tmp();
    sh(`tar -c --format=gnu ${paths.map((p) => `'${p}'`).join(" ")} | zstd -q -3 > '${join(dir, "one.tar.zst")}'`, src);
    const one = fs.readFileSync(join(dir, "one.tar.zst"));
    expect(split(one, 1 << 20)).toMatchObject({ frames: [], rest: expect.anything() }); // one frame, more than 8 MiB
    const dest = tmp();
    expect(await unpackArchive(fs.createReadStream(join(dir, "one.tar.zst")), dest)).toEqual({ ok: true, value: { files: paths.length } });
    expect(snapshot(dest)).toEqual(snapshot(src));

    // Small frames first, decoded in parallel, then the switch to streaming in the middle of the tar.
    const tar = tarOfTree(src, paths);
    const head = framesOf(tar.subarray(0, 100000), [3000, 50000]);
    const tail = Buffer.from(Bun.zstdCompressSync(tar.subarray(100000), { level: 3 }));
    expect(tail.length).toBeGreaterThan(8 << 20);
    const mixed = Buffer.concat([...head, tail, ...framesOf(new Uint8Array(0), [])]);
    const dest2 = tmp();
    expect(await unpackArchive(pieces(mixed, 256 * 1024), dest2)).toEqual({ ok: true, value: { files: paths.length } });
    expect(snapshot(dest2)).toEqual(snapshot(src));
  });

  test("a corrupt frame among frames decoded in parallel is refused", async () => {
    const src = tmp();
    const paths = makeMixed(src);
    const good = await packToBuffer(src, paths);
    const bad = Buffer.from(good);
    bad[bad.length - 1000]! ^= 0x10; // in the last frames
    await expectRefused(bad, /corrupt/);
    const bad2 = Buffer.from(good);
    bad2[Math.floor(bad2.length / 3)]! ^= 0x01;
    await expectRefused(bad2, /corrupt/);
  });
});

describe("unpacking over existing outputs", () => {
  test("files and symlinks are replaced, directories merged, nothing is written through a symlink", async () => {
    const src = tmp();
    const w = (root: string, path: string, data: string) => {
      fs.mkdirSync(join(root, path, ".."), { recursive: true });
      fs.writeFileSync(join(root, path), data);
    };
    w(src, "out/file.txt", "new");
    w(src, "f", "new f");
    fs.symlinkSync("out/file.txt", join(src, "link"));
    w(src, "sym", "now a file");
    w(src, "d/x", "now a dir");
    w(src, "e", "now a file");
    w(src, "esc/x", "must stay inside");
    w(src, "ro/new.txt", "into an existing dir from a read-only one");
    fs.chmodSync(join(src, "ro"), 0o555);
    const archive = await packToBuffer(src, ["out", "f", "link", "sym", "d", "e", "esc", "ro"]);

    const { box, root } = sandbox();
    w(root, "out/file.txt", "old");
    w(root, "out/stale.txt", "not in the archive");
    w(root, "f", "old f");
    w(root, "link", "a file where the archive has a symlink");
    fs.symlinkSync("keep.txt", join(root, "sym"));
    w(root, "d", "a file where the archive has a dir");
    w(root, "e/inner", "a dir where the archive has a file");
    fs.symlinkSync(join(box, "outside"), join(root, "esc"));
    w(root, "ro/old.txt", "kept");
    const outsideBefore = snapshot(join(box, "outside"));

    expect((await unpackArchive(pieces(archive), root)).ok).toBe(true);
    const after = snapshot(root);
    expect(after).toMatchObject({
      "out/file.txt": snapshot(src)["out/file.txt"]!,
      "out/stale.txt": expect.stringMatching(/^file /),
      f: snapshot(src)["f"]!,
      link: "symlink -> out/file.txt",
      sym: snapshot(src)["sym"]!,
      d: "dir 755",
      "d/x": snapshot(src)["d/x"]!,
      e: snapshot(src)["e"]!,
      esc: "dir 755",
      "esc/x": snapshot(src)["esc/x"]!,
      "keep.txt": expect.stringMatching(/^file /),
      ro: "dir 755", // a merged directory keeps its own mode
      "ro/new.txt": snapshot(src)["ro/new.txt"]!,
      "ro/old.txt": expect.stringMatching(/^file /),
    });
    expect(after["e/inner"]).toBeUndefined();
    expect(snapshot(join(box, "outside"))).toEqual(outsideBefore);
    expect(Object.keys(after).some((p) => p.startsWith(STAGING_PREFIX))).toBe(false);
  });

  test("a missing root is created", async () => {
    const src = tmp();
    fs.writeFileSync(join(src, "x"), "x");
    const root = join(tmp(), "new", "root");
    expect(await unpackArchive(pieces(await packToBuffer(src, ["x"])), root)).toEqual({ ok: true, value: { files: 1 } });
    expect(fs.readFileSync(join(root, "x"), "utf8")).toBe("x");
  });

  test("a root created for a failed unpack is removed again", async () => {
    const base = tmp();
    expect((await unpackArchive(pieces(Buffer.from("not an archive")), join(base, "new", "root"))).ok).toBe(false);
    expect(fs.readdirSync(base)).toEqual([]);
  });
});

describe("packing errors", () => {
  test("a missing output: done names it, and the stream errors", async () => {
    const root = tmp();
    fs.writeFileSync(join(root, "there"), "x");
    const packed = packArchive(root, ["there", "not-there"]);
    let streamError: unknown = null;
    try {
      for await (const _ of packed.stream);
    } catch (e) {
      streamError = e;
    }
    const done = await packed.done;
    expect(done).toEqual({ ok: false, error: `cannot pack output "not-there" (in ${root}): it does not exist` });
    expect(String(streamError)).toContain("not-there");
  });

  test.each([
    ["/etc/passwd", /is absolute/],
    ["../x", /has a "\.\." component/],
    ["a/../../x", /has a "\.\." component/],
    ["", /is empty/],
  ])("output path %j is refused", async (path, why) => {
    const done = await packArchive(tmp(), [path]).done;
    expect(done.ok).toBe(false);
    if (!done.ok) expect(done.error).toMatch(why);
  });
});

describe("path rules", () => {
  test.each([
    ["a/b", "a/b"],
    ["./a//b/", "a/b"],
    [".", "."],
    ["-rf", "-rf"],
  ])("pack path %j is accepted as %j", (path, normal) => {
    expect(checkPackPath(path)).toEqual({ ok: true, value: normal });
  });

  test.each([
    ["a/b", ["a", "b"]],
    ["./a/", ["a"]],
    ["./", []],
    ["...", ["..."]],
    ["..a/b..", ["..a", "b.."]],
  ])("member name %j is accepted", (name, parts) => {
    expect(checkMemberName(name)).toEqual({ ok: true, value: parts });
  });

  test.each(["", "/a", "..", "a/..", "a/../b", "./../a"])("member name %j is refused", (name) => {
    expect(checkMemberName(name).ok).toBe(false);
  });

  test.each([
    [["l"], "x", true],
    [["l"], "a/b/c", true],
    [["d", "l"], "../x", true],
    [["d", "e", "l"], "../../x/y", true],
    [["d", "l"], "./../x", true],
    [["l"], "../x", false],
    [["d", "l"], "../../x", false],
    [["l"], "/etc", false],
    [["l"], "", false],
    [["d", "l"], "x/../..", false],
    [["d", "l"], "x/..", false],
  ] as [string[], string, boolean][])("symlink %j -> %j accepted: %p", (link, target, accepted) => {
    expect(checkSymlinkTarget(link, target).ok).toBe(accepted);
  });

  test.each([
    ["0000644\0", 0o644],
    ["     12 ", 0o12],
    ["00000000017\0", 0o17],
    ["", null],
    ["12x\0", null],
    ["-1\0", null],
  ] as [string, number | null][])("tar number %j is %p", (field, value) => {
    expect(parseTarNumber(Buffer.from(field.padEnd(8, "\0"), "latin1"))).toBe(value);
  });

  test("a base-256 tar number", () => {
    expect(parseTarNumber(Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]))).toBe(2 * 65536);
    expect(parseTarNumber(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBeNull();
  });
});
