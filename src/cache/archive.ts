// Output archives of the remote cache: a tar (GNU format) compressed with zstd at level 3,
// readable by `tar --zstd -x` and able to read what `tar -c | zstd -3` writes.
//
// GNU tar does the file-system work both ways (node-tar is 3x slower to create and 10x slower
// to extract, BUN-NOTES.md); Bun does the zstd. Packing cuts tar's output into 2 MiB blocks and
// compresses them as independent frames on the thread pool, several at a time: a single zstd
// stream in Bun is slower than the zstd CLI, and `nbWorkers` hangs in Bun 1.4. Concatenated
// frames are one valid zstd stream (RFC 8878 §3.1) that `zstd -d` and GNU tar read as usual.
// Unpacking decompresses in Bun, the same way round: independent frames are decoded several at a
// time on the thread pool (one large frame, as `zstd` makes, by one streaming decompressor). It
// checks every tar header before its bytes reach GNU tar, lets GNU tar extract into a staging
// directory inside the root, and only after everything was read and checked moves the staged
// entries into place.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { lstat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "../sys/path.ts";
import { Readable, type Writable } from "node:stream";
import { constants, createZstdCompress, createZstdDecompress } from "node:zlib";
import { type Result, ok, err } from "../result.ts";
import { STAGING_PREFIX, TarHeaderReader, ZstdFrameSplitter, checkPackPath } from "./archive-paths.ts";

const ZSTD_LEVEL = 3;
// Frames of 2 MiB (the level-3 window) compress as well as one long stream (measured: 0.4%
// smaller). In flight: one more than the cores, as the main thread fills the next block meanwhile
// (measured on 2 cores: 3 beats 2 by ~10%); our buffers stay under ~25 MiB for any archive size.
const FRAME_INPUT = 2 << 20;
const FRAMES_IN_FLIGHT = Math.min(8, Math.max(3, availableParallelism() + 1));
// GNU tar refuses to create an empty archive; an empty one is one 10 KiB record of zeros.
const EMPTY_TAR = new Uint8Array(10240);

/** The environment GNU tar runs with: the task's (a nested call's is its caller's), or this process's. */
export type TarEnv = Record<string, string | undefined> | undefined;

/** Starts packing `paths` (relative to `root`; files, symlinks or whole directories) into a tar.zst stream. */
export function packArchive(root: string, paths: string[], env?: TarEnv): { stream: Readable; done: Promise<Result<void, string>> } {
  let wake: (() => void) | null = null;
  const resume = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const stream = new Readable({ highWaterMark: 1 << 20, read: resume });
  stream.on("close", resume);
  stream.on("error", () => {}); // the reason is reported through `done`; a consumer sees the error itself
  const emit = async (chunk: Buffer) => {
    if (stream.destroyed) throw new Aborted();
    if (!stream.push(chunk)) await new Promise<void>((r) => (wake = r));
  };
  const done = pack(root, paths, emit, env).then(
    (r) => r,
    (e: unknown) => err(e instanceof Aborted ? "the archive stream was closed before packing finished" : `packing failed: ${message(e)}`),
  );
  void done.then((r) => {
    // Ending the stream only now, after tar's exit status is known, keeps a failed pack from
    // ever looking like a complete upload.
    if (r.ok) stream.push(null);
    else stream.destroy(new Error(r.error));
  });
  return { stream, done };
}

class Aborted extends Error {}

async function pack(root: string, paths: string[], emit: (chunk: Buffer) => Promise<void>, env: TarEnv): Promise<Result<void, string>> {
  const names: string[] = [];
  for (const path of paths) {
    const checked = checkPackPath(path);
    if (!checked.ok) return checked;
    try {
      await lstat(join(root, checked.value));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : message(e);
      return err(`cannot pack output ${JSON.stringify(path)} (in ${root}): ${why}`);
    }
    names.push(checked.value);
  }
  const frames = new FrameCompressor(emit);
  if (names.length === 0) {
    await frames.write(Buffer.from(EMPTY_TAR));
    await frames.end();
    return ok(undefined);
  }
  // Names go through stdin, NUL-separated and verbatim: a name may start with "-" or hold a
  // newline or a backslash. The staging directories of unpacks in progress are never packed.
  const tar = spawn(
    "tar",
    ["--create", "--file=-", "--format=gnu", `--exclude=${STAGING_PREFIX}*`, "--null", "--verbatim-files-from", "--no-unquote", "--files-from=-"],
    { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] },
  );
  const status = exited(tar);
  const stderr = collect(tar.stderr!);
  tar.stdin!.on("error", () => {}); // tar may exit before reading the names; its status says why
  tar.stdin!.end(names.map((n) => `${n}\0`).join(""));
  try {
    for await (const chunk of tar.stdout!) await frames.write(chunk as Buffer);
    await frames.end();
  } catch (e) {
    frames.abort();
    tar.kill("SIGKILL");
    await status;
    throw e;
  }
  const exit = await status;
  if (exit !== 0) return err(`tar could not pack the outputs (${exit}): ${stderr().trim() || "no message"}`);
  return ok(undefined);
}

/**
 * Cuts a byte stream into blocks and compresses each as one zstd frame, several at once, emitting
 * the frames in order.
 */
class FrameCompressor {
  private size = 0;
  private queue: Promise<Buffer[]>[] = [];
  private slots = Array.from({ length: FRAMES_IN_FLIGHT }, () => new FrameSlot());
  private next = 0;
  constructor(private readonly emit: (chunk: Buffer) => Promise<void>) {}

  async write(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      const slot = this.slots[this.next % this.slots.length]!;
      const k = Math.min(chunk.length - at, FRAME_INPUT - this.size);
      slot.block.set(chunk.subarray(at, at + k), this.size);
      this.size += k;
      at += k;
      if (this.size === FRAME_INPUT) await this.cut();
    }
  }

  async end(): Promise<void> {
    if (this.size > 0) await this.cut();
    while (this.queue.length > 0) await this.emitOldest();
    for (const slot of this.slots) slot.close();
  }

  /** Frees the compressors after a failure. */
  abort(): void {
    for (const slot of this.slots) slot.close();
  }

  private async cut(): Promise<void> {
    // Slots are used in turn and fewer than FRAMES_IN_FLIGHT frames stay queued, so a slot's
    // previous frame is done (its block free again) before the slot is filled anew.
    const job = this.slots[this.next++ % this.slots.length]!.frame(this.size);
    job.catch(() => {}); // awaited in order below; this only keeps a later failure from being "unhandled"
    this.queue.push(job);
    this.size = 0;
    while (this.queue.length >= FRAMES_IN_FLIGHT) await this.emitOldest();
  }

  private async emitOldest(): Promise<void> {
    for (const out of await this.queue.shift()!) await this.emit(out);
  }
}

/**
 * One frame at a time: a fresh zstd compressor (level 3, content checksums) per frame, working
 * on the thread pool. Its "end" event is the only reliable frame boundary; it is destroyed right
 * after, which frees its native context at once instead of at the next GC.
 */
class FrameSlot {
  /** The input of the next frame, filled by FrameCompressor; reused, so no garbage per frame. */
  readonly block = Buffer.allocUnsafe(FRAME_INPUT);
  private current: ReturnType<typeof createZstdCompress> | null = null;

  /** Compresses the first `size` bytes of `block` as one complete frame. */
  frame(size: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const z = createZstdCompress({
        chunkSize: 256 << 10,
        params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL, [constants.ZSTD_c_checksumFlag]: 1 },
      });
      this.current = z;
      const out: Buffer[] = [];
      z.on("data", (c: Buffer) => out.push(c));
      z.on("end", () => {
        this.close();
        resolve(out);
      });
      z.on("error", reject);
      z.end(this.block.subarray(0, size));
    });
  }

  close(): void {
    this.current?.destroy();
    this.current = null;
  }
}

/**
 * Unpacks a tar.zst stream into `root`: all or nothing. `files` counts the archive's members
 * (files, directories and links). Fails, writing nothing, on a damaged or hostile archive.
 * `verify`, if given, is asked after the whole archive was read and extracted into the staging
 * directory and before anything is moved into place (a signature check): a failure is a
 * failure of the unpack, and nothing is written.
 */
export async function unpackArchive(
  source: AsyncIterable<Uint8Array>,
  root: string,
  verify?: () => Result<void, string>,
  env?: TarEnv,
): Promise<Result<{ files: number }, string>> {
  let created: string | undefined;
  let staging: string;
  let realRoot: string;
  try {
    created = fs.mkdirSync(root, { recursive: true });
    realRoot = fs.realpathSync(root);
    staging = fs.mkdtempSync(join(realRoot, STAGING_PREFIX));
  } catch (e) {
    return err(`cannot unpack into ${root}: ${message(e)}`);
  }
  const reader = new TarHeaderReader();
  const tar = spawn("tar", ["--extract", "--file=-", "--no-same-owner", "--preserve-permissions"], {
    cwd: staging,
    env,
    stdio: ["pipe", "ignore", "pipe"],
  });
  const status = exited(tar);
  const stderr = collect(tar.stderr!);

  let failure = await streamInto(source, reader, tar.stdin!);
  if (failure === null) tar.stdin!.end();
  else if (failure !== TAR_GONE) tar.kill("SIGKILL");
  const exit = await status;
  if ((failure === null || failure === TAR_GONE) && exit !== 0) failure = `tar could not extract the archive (${exit}): ${stderr().trim() || "no message"}`;
  if (failure === null && verify !== undefined) {
    const verified = verify();
    if (!verified.ok) failure = verified.error;
  }
  try {
    if (failure === null) moveInto(staging, realRoot);
  } catch (e) {
    failure = `moving the unpacked outputs into ${realRoot} failed, some may be restored and others not: ${message(e)}`;
  }
  try {
    removeTree(staging);
    if (failure !== null && created !== undefined) removeCreatedDirs(root, created);
  } catch (e) {
    failure ??= `cannot remove the staging directory ${staging}: ${message(e)}`;
  }
  return failure === null ? ok({ files: reader.members }) : err(failure);
}

const TAR_GONE = "tar stopped reading the archive";
// Unpacking decodes independent frames (as packing makes them) on the thread pool, several at a
// time, and hands them on in order. A frame above these sizes (compressed, or decoded: its
// declared content size, else a bound from its block headers) is not held whole: from it on, the
// stream goes through one streaming decompressor, as `tar | zstd` makes one frame of any size.
// In flight: UNPACK_FRAMES_IN_FLIGHT pieces of at most 8 MiB that decode to at most 16 MiB.
const FRAME_MAX_COMPRESSED = 8 << 20;
// Our frames bound at 2-3.3 MiB; zstd's block splitter can make a 2 MiB frame bound at ~15 MiB.
const FRAME_MAX_DECODED = 16 << 20;
// One more than packing (measured on 2 cores, decoding into a tar pipe: 4 beat 3 by ~10%; in
// unpackArchive 3 to 5 differ by less than the noise).
const UNPACK_FRAMES_IN_FLIGHT = FRAMES_IN_FLIGHT + 1;

/** Decompresses `source`, checks it, and writes the tar stream to `tarIn`; returns why it failed, or null. */
async function streamInto(source: AsyncIterable<Uint8Array>, reader: TarHeaderReader, tarIn: Writable): Promise<string | null> {
  const splitter = new ZstdFrameSplitter(FRAME_MAX_COMPRESSED, FRAME_MAX_DECODED);
  let dec: ReturnType<typeof createZstdDecompress> | null = null;
  const frames: Uint8Array[] = []; // the input of each decode in `queue`, to recycle
  let failure: string | null = null;
  // What the loop below hands on, in order: decoded frames, then maybe the streaming decoder.
  const queue: (Promise<Uint8Array> | ReturnType<typeof createZstdDecompress> | null)[] = [];
  let wakeConsumer: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const wake = (w: (() => void) | null) => w?.();
  const enqueue = (item: (typeof queue)[number]) => {
    queue.push(item);
    const w = wakeConsumer;
    wakeConsumer = null;
    wake(w);
  };
  const fail = (why: string) => {
    failure ??= why;
    dec?.destroy();
    enqueue(null); // ends the loop below, if it waits
    const w = wakeProducer;
    wakeProducer = null;
    wake(w);
  };
  let tarGone = false;
  tarIn.on("error", () => (tarGone = true));
  tarIn.on("close", () => (tarGone = true));

  /** Starts decoding frames, waiting while too many are in flight; false once the unpack failed. */
  const decode = async (pieces: Uint8Array[]): Promise<boolean> => {
    for (const frame of pieces) {
      while (queue.length >= UNPACK_FRAMES_IN_FLIGHT && failure === null) await new Promise<void>((r) => (wakeProducer = r));
      if (failure !== null) return false;
      const job = Bun.zstdDecompress(frame);
      frames.push(frame);
      job.catch(() => {}); // awaited in order below; this only keeps a later failure from being "unhandled"
      enqueue(job);
    }
    return failure === null;
  };

  // Feeding runs beside the loop below; it is not awaited on failure (the source may be slow to
  // end; its owner destroys it).
  void (async () => {
    try {
      let input: Coalescer | null = null;
      for await (const chunk of source) {
        if (failure !== null) return;
        const split = splitter.push(chunk);
        if (!split.ok) return fail(split.error);
        if (!(await decode(split.value.frames))) return;
        if (split.value.rest === null) continue;
        if (dec === null) {
          dec = createZstdDecompress({ chunkSize: 256 << 10 });
          dec.on("error", () => {}); // seen by the loop below; this only keeps late errors from crashing
          input = new Coalescer(dec);
          enqueue(dec);
        }
        for (const part of split.value.rest) await input!.write(part);
      }
      const last = splitter.finish();
      if (!last.ok) return fail(last.error);
      if (!(await decode(last.value))) return;
      if (input !== null) await input.flush();
      dec?.end();
      enqueue(null);
    } catch (e) {
      fail(`reading the archive failed: ${message(e)}`);
    }
  })();

  /** Hands decoded bytes on to tar once checked; false if the unpack is over. */
  const pass = async (out: Uint8Array, owned = false): Promise<boolean> => {
    const passed = reader.push(out);
    if (!passed.ok) {
      fail(passed.error);
      return false;
    }
    if (passed.value === 0) return true;
    if (tarGone) {
      if (reader.ended) return true; // tar may stop reading after the end-of-archive marker
      fail(TAR_GONE); // it failed; its exit status and messages say why
      return false;
    }
    // A decoded frame's memory is freed (its buffer detached) once tar has it: left to the
    // garbage collector, these 2 MiB buffers more than doubled the peak memory of an unpack.
    const own = owned && out.byteOffset === 0 && out.buffer.byteLength === out.length; // never a shared pool
    const free = own ? () => void (out.buffer as ArrayBuffer).transfer(0) : undefined;
    if (!tarIn.write(passed.value === out.length ? out : out.subarray(0, passed.value), free)) await drained(tarIn);
    return true;
  };

  try {
    for (;;) {
      if (queue.length === 0) await new Promise<void>((r) => (wakeConsumer = r));
      if (failure !== null) break;
      const item = queue[0]!;
      if (item === null) break;
      if (item instanceof Promise) {
        const out = await item;
        queue.shift();
        splitter.recycle(frames.shift()!);
        const w = wakeProducer;
        wakeProducer = null;
        wake(w);
        if (failure !== null || !(await pass(out, true))) break;
      } else {
        for await (const out of item as AsyncIterable<Buffer>) if (failure !== null || !(await pass(out))) break;
        queue.shift();
      }
    }
  } catch (e) {
    fail(`the archive is corrupt: ${message(e)}`);
  }
  if (failure === null) {
    const end = reader.finish();
    if (!end.ok) fail(end.error);
  }
  return failure;
}

const SLAB = 1 << 20;
/**
 * Gathers the source's chunks (S3 bodies arrive in 16-64 KiB pieces) into 1 MiB writes: each
 * write to a zstd stream is a trip to the thread pool, and small ones made the unpack ~25%
 * slower. Two slabs alternate; a slab is refilled only once the stream has consumed it.
 */
class Coalescer {
  private slabs = [Buffer.allocUnsafe(SLAB), Buffer.allocUnsafe(SLAB)];
  private consumed: (Promise<void> | null)[] = [null, null];
  private current = 0;
  private fill = 0;
  constructor(private readonly out: Writable) {}

  async write(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      const k = Math.min(SLAB - this.fill, chunk.length - at);
      this.slabs[this.current]!.set(chunk.subarray(at, at + k), this.fill);
      this.fill += k;
      at += k;
      if (this.fill === SLAB) await this.flush();
    }
  }

  /** Writes what is gathered; resolves once the other slab is free again. */
  async flush(): Promise<void> {
    if (this.fill === 0 || this.out.destroyed) return;
    const slab = this.slabs[this.current]!.subarray(0, this.fill);
    this.consumed[this.current] = new Promise((resolve) => {
      this.out.once("close", resolve); // a destroyed stream may never call back
      this.out.write(slab, () => {
        this.out.off("close", resolve);
        resolve();
      });
    });
    this.current ^= 1;
    this.fill = 0;
    await this.consumed[this.current];
  }
}

/**
 * Moves the staged entries into `to`: a new name is one rename (a whole directory at once); an
 * existing file or symlink is replaced; an existing directory is merged into. Only real
 * directories are descended, so an existing symlink in the root is replaced, never followed.
 */
function moveInto(from: string, to: string): void {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    const existing = lstatOrNull(dst);
    if (entry.isDirectory()) {
      if (existing?.isDirectory()) {
        mergeDir(src, dst);
        continue;
      }
      if (existing !== null) fs.unlinkSync(dst);
      renameDir(src, dst);
    } else {
      if (existing?.isDirectory()) removeTree(dst);
      fs.renameSync(src, dst); // replaces a file or symlink atomically
    }
  }
}

function mergeDir(src: string, dst: string): void {
  const mode = fs.lstatSync(src).mode;
  if ((mode & 0o300) !== 0o300) fs.chmodSync(src, mode | 0o700); // to move entries out of a read-only staged dir
  moveInto(src, dst);
}

function renameDir(src: string, dst: string): void {
  try {
    fs.renameSync(src, dst);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === "EEXIST" || code === "ENOTEMPTY") && lstatOrNull(dst)?.isDirectory()) return mergeDir(src, dst); // made meanwhile by another unpack
    if (code !== "EACCES") throw e;
    // Moving a directory to another parent rewrites its "..", which needs write permission on it.
    const mode = fs.lstatSync(src).mode & 0o7777;
    fs.chmodSync(src, mode | 0o200);
    fs.renameSync(src, dst);
    fs.chmodSync(dst, mode);
  }
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Removes a tree, also when it holds read-only directories (which `rm -rf` cannot empty as non-root). */
function removeTree(path: string): void {
  try {
    fs.rmSync(path, { recursive: true, force: true });
  } catch {
    const open = (p: string) => {
      fs.chmodSync(p, 0o700);
      for (const e of fs.readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) open(join(p, e.name));
    };
    open(path);
    fs.rmSync(path, { recursive: true, force: true });
  }
}

/** After a failed unpack, removes the directories `mkdir -p root` created (if still empty). */
function removeCreatedDirs(root: string, first: string): void {
  const top = resolve(first);
  for (let dir = resolve(root); dir.startsWith(top); dir = dirname(dir)) fs.rmdirSync(dir);
}

/** Resolves when `stream` can take more data, or can take none ever again. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done).off("close", done).off("error", done);
      resolve();
    };
    stream.on("drain", done).on("close", done).on("error", done);
  });
}

/** The exit of a child as text for messages ("exit code 2", "signal SIGKILL"), or 0 for success. */
function exited(child: ChildProcess): Promise<0 | string> {
  return new Promise((resolve) => {
    child.on("error", (e) => resolve(`could not run tar: ${message(e)}; GNU tar must be installed`));
    child.on("close", (code, signal) => resolve(code === 0 ? 0 : code !== null ? `exit code ${code}` : `signal ${signal}`));
  });
}

/** Keeps the first 4 KiB a stream writes (tar's messages). */
function collect(stream: Readable): () => string {
  let text = "";
  stream.on("data", (c: Buffer) => {
    if (text.length < 4096) text += c.toString("utf8");
  });
  return () => text.slice(0, 4096);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
