// Pure checks for output archives: the rules for paths given to `packArchive`, and two
// streaming readers `unpackArchive` runs over every byte before GNU tar sees it.
//
// Why a hand-written tar header reader instead of npm `tar`'s Parser: the verdict on a member
// must be reached synchronously, before the chunk that completes its header is handed to GNU
// tar, and it must read each header exactly as GNU tar 1.3x will (a `L`/`x` name wins over the
// header's, the ustar prefix only counts with the POSIX magic, the first zero block ends the
// archive). It reads headers only and skips data by arithmetic, so it costs nothing per byte.
// Anything it does not fully understand (sparse files, devices, multi-volume, unknown types,
// odd number fields) is refused rather than guessed at.
import { type Result, ok, err } from "../result.ts";

/** Name prefix of the staging directory `unpackArchive` creates inside the cache root. */
export const STAGING_PREFIX = ".taskrunner-unpack-";

/** Splits a relative path into its components, dropping empty and `.` ones. */
function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/** Checks a path given to `packArchive`: relative, inside the root; returns it normalised. */
export function checkPackPath(path: string): Result<string, string> {
  if (path === "") return err("an output path is empty");
  if (path.includes("\0")) return err(`output path ${JSON.stringify(path)} contains a NUL byte`);
  if (path.startsWith("/")) return err(`output path ${JSON.stringify(path)} is absolute; give it relative to the cache root`);
  const parts = components(path);
  if (parts.includes("..")) return err(`output path ${JSON.stringify(path)} has a ".." component; outputs must lie inside the cache root`);
  return ok(parts.length === 0 ? "." : parts.join("/"));
}

/** Checks an archive member name; returns its components (none for the root itself). */
export function checkMemberName(name: string): Result<string[], string> {
  if (name === "") return err("a member has an empty name");
  if (name.startsWith("/")) return err(`member ${JSON.stringify(name)} has an absolute path`);
  const parts = components(name);
  if (parts.includes("..")) return err(`member ${JSON.stringify(name)} has a ".." component`);
  if (parts[0]?.startsWith(STAGING_PREFIX)) return err(`member ${JSON.stringify(name)} uses the reserved name ${STAGING_PREFIX}*`);
  return ok(parts);
}

/**
 * Checks a symlink's target, relative to the link's own directory. Besides refusing absolute
 * targets and targets that climb above the root, a `..` after a named component is refused:
 * `u -> .` then `v -> u/..` looks inside lexically but the kernel resolves `u` first and lands
 * above the root. Targets made by path.relative and ln -r only ever lead with their `..`.
 */
export function checkSymlinkTarget(link: string[], target: string): Result<void, string> {
  const what = `symlink ${JSON.stringify(link.join("/"))} -> ${JSON.stringify(target)}`;
  if (target === "") return err(`${what} has an empty target`);
  if (target.startsWith("/")) return err(`${what} has an absolute target`);
  const parts = components(target);
  const ups = parts.findIndex((c) => c !== "..");
  const up = ups === -1 ? parts.length : ups;
  if (parts.slice(up).includes("..")) return err(`${what} has a ".." after a name in its target`);
  if (up > link.length - 1) return err(`${what} points outside the cache root`);
  return ok(undefined);
}

/** Parses a tar number field: octal (GNU tar also pads with spaces/NULs) or base-256. */
export function parseTarNumber(buf: Uint8Array, start = 0, length = buf.length - start): number | null {
  const end = start + length;
  const first = buf[start] ?? 0;
  if (first & 0x80) {
    if (first !== 0x80) return null; // negative or unknown binary form
    let n = 0;
    for (let i = start + 1; i < end; i++) n = n * 256 + buf[i]!;
    return Number.isSafeInteger(n) ? n : null;
  }
  let i = start;
  while (i < end && buf[i] === 0x20) i++;
  const digits = i;
  let n = 0;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x37) n = n * 8 + buf[i++]! - 0x30;
  if (i === digits) return null;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  return i === end && Number.isSafeInteger(n) ? n : null;
}

const utf8 = new TextDecoder("utf-8");
/**
 * A NUL-terminated string field, decoded as UTF-8 (invalid bytes become U+FFFD, which can make
 * two names compare equal but never hides a "/" or "."). ASCII is decoded inline: it is the
 * common case and this runs for every member.
 */
function cString(buf: Uint8Array, start = 0, length = buf.length - start): string {
  const end = start + length;
  let text = "";
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return text;
    if (b > 127) {
      let nul = i;
      while (nul < end && buf[nul] !== 0) nul++;
      return text + utf8.decode(buf.subarray(i, nul));
    }
    text += String.fromCharCode(b);
  }
  return text;
}

/** Parses pax extended header records (`<len> <key>=<value>\n`). */
export function parsePax(data: Uint8Array): Result<Map<string, string>, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // some writers pad the block with NULs
    const space = data.indexOf(0x20, at);
    const digits = space === -1 ? "" : utf8.decode(data.subarray(at, space));
    const len = /^\d+$/.test(digits) ? Number(digits) : NaN;
    if (!Number.isSafeInteger(len) || len <= space - at || at + len > data.length || data[at + len - 1] !== 0x0a) {
      return err("a pax extended header is malformed");
    }
    const record = data.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) return err("a pax extended header is malformed");
    records.set(utf8.decode(record.subarray(0, eq)), utf8.decode(record.subarray(eq + 1)));
    at += len;
  }
  return ok(records);
}

// Extension headers hold at most a path; 1 MiB bounds memory against a hostile size field.
const META_MAX = 1 << 20;
const BLOCK = 512;
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/**
 * Reads a tar stream's headers as they stream past and refuses, before its header is passed on,
 * any member that could write outside the root: see `checkMemberName`, `checkSymlinkTarget`,
 * hard links whose target is not an earlier plain member, and members under a symlink member.
 * `push` returns how many bytes of the chunk may go on to GNU tar (all of them, until the end of
 * the archive; after that only the zero padding).
 */
export class TarHeaderReader {
  /** Archive members seen: files, directories and links. */
  members = 0;
  private offset = 0;
  private state: "header" | "skip" | "meta" | "ended" | "trailing" = "header";
  private skip = 0;
  private header = new Uint8Array(BLOCK);
  private fill = 0;
  private meta: { type: string; data: Uint8Array; fill: number } | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;
  private pax: Map<string, string> | null = null;
  private symlinks = new Set<string>();

  /** Feeds the next bytes; returns how many of them may be passed on, or why the archive is refused. */
  push(chunk: Uint8Array): Result<number, string> {
    let i = 0;
    while (i < chunk.length) {
      const n = chunk.length - i;
      switch (this.state) {
        case "skip": {
          const k = Math.min(n, this.skip);
          this.skip -= k;
          i += k;
          if (this.skip === 0) this.state = "header";
          break;
        }
        case "meta": {
          const m = this.meta!;
          const k = Math.min(n, m.data.length - m.fill);
          m.data.set(chunk.subarray(i, i + k), m.fill);
          m.fill += k;
          i += k;
          if (m.fill === m.data.length) {
            const done = this.endMeta(m.type, m.data);
            if (!done.ok) return done;
          }
          break;
        }
        case "header": {
          if (this.fill === 0 && n >= BLOCK) {
            i += BLOCK;
            const done = this.readHeader(chunk, i - BLOCK, this.offset + i - BLOCK);
            if (!done.ok) return done;
            break;
          }
          const k = Math.min(n, BLOCK - this.fill);
          this.header.set(chunk.subarray(i, i + k), this.fill);
          this.fill += k;
          i += k;
          if (this.fill === BLOCK) {
            this.fill = 0;
            const done = this.readHeader(this.header, 0, this.offset + i - BLOCK);
            if (!done.ok) return done;
          }
          break;
        }
        case "ended": {
          // GNU tar stops at the first zero block; pass it the zero padding, never later bytes.
          let j = i;
          while (j < chunk.length && chunk[j] === 0) j++;
          if (j < chunk.length) {
            this.state = "trailing";
            this.offset += j;
            return ok(j);
          }
          i = j;
          break;
        }
        case "trailing":
          return ok(0);
      }
    }
    this.offset += chunk.length;
    return ok(chunk.length);
  }

  /** Whether the end-of-archive marker was read. */
  get ended(): boolean {
    return this.state === "ended" || this.state === "trailing";
  }

  /** Call at the end of the stream: refuses an empty or truncated archive. */
  finish(): Result<void, string> {
    if (this.ended) return ok(undefined);
    if (this.offset === 0) return err("the archive is empty (not even an end-of-archive marker)");
    return err(`the archive is truncated: it ends at byte ${this.offset} of the tar stream, before its end-of-archive marker`);
  }

  private endMeta(type: string, data: Uint8Array): Result<void, string> {
    this.meta = null;
    this.skip = padded(data.length) - data.length;
    this.state = this.skip === 0 ? "header" : "skip";
    if (type === "L") this.longName = cString(data);
    else if (type === "K") this.longLink = cString(data);
    else {
      const parsed = parsePax(data);
      if (!parsed.ok) return parsed;
      for (const [key, value] of parsed.value) {
        if (key.startsWith("GNU.sparse.")) return err("the archive holds a sparse file, which is not supported");
        if (type === "g" && (key === "path" || key === "linkpath" || key === "size")) {
          return err(`the archive has a global pax header setting "${key}", which is not supported`);
        }
        if ((key === "path" || key === "linkpath") && value.includes("\0")) return err(`a pax "${key}" contains a NUL byte`);
      }
      if (type === "x") this.pax = parsed.value;
    }
    return ok(undefined);
  }

  /** Reads the header at `h[b]..h[b + 512]`, which starts at byte `at` of the tar stream. */
  private readHeader(h: Uint8Array, b: number, at: number): Result<void, string> {
    // The checksum sums the header with its checksum field read as spaces, bytes taken unsigned
    // or (old writers) signed; a zero sum of the raw bytes is the end-of-archive block.
    let raw = 0;
    let high = 0;
    for (let i = b; i < b + BLOCK; i++) {
      const byte = h[i]!;
      raw += byte;
      if (byte > 127) high++;
    }
    if (raw === 0) {
      this.state = "ended";
      return ok(undefined);
    }
    let field = 0;
    let fieldHigh = 0;
    for (let i = b + 148; i < b + 156; i++) {
      field += h[i]!;
      if (h[i]! > 127) fieldHigh++;
    }
    const unsigned = raw - field + 8 * 0x20;
    const signed = unsigned - 256 * (high - fieldHigh);
    const stored = parseTarNumber(h, b + 148, 8);
    if (stored === null || (stored !== unsigned && stored !== signed)) return err(`the archive is corrupt: bad tar header checksum at byte ${at}`);
    const type = String.fromCharCode(h[b + 156]!);
    const headerSize = parseTarNumber(h, b + 124, 12);
    if (headerSize === null) return err(`the archive is corrupt: bad size field in the tar header at byte ${at}`);

    if (type === "L" || type === "K" || type === "x" || type === "g") {
      if (headerSize > META_MAX) return err(`a tar extension header at byte ${at} is too large (${headerSize} bytes)`);
      this.meta = { type, data: new Uint8Array(headerSize), fill: 0 };
      this.state = "meta";
      if (headerSize === 0) return this.endMeta(type, this.meta.data);
      return ok(undefined);
    }

    // GNU tar's precedence: pax path > GNU long name > [ustar prefix "/"] name field.
    let name = this.pax?.get("path") ?? this.longName;
    if (name === null) {
      const field = cString(h, b, 100);
      const ustar = cString(h, b + 257, 6) === "ustar" && h[b + 262] === 0; // POSIX magic "ustar\0"
      name = ustar && h[b + 345] !== 0 ? `${cString(h, b + 345, 155)}/${field}` : field;
    }
    const isLink = type === "1" || type === "2";
    const link = isLink ? (this.pax?.get("linkpath") ?? this.longLink ?? cString(h, b + 157, 100)) : "";
    const paxSize = this.pax?.get("size");
    const size = paxSize === undefined ? headerSize : /^\d+$/.test(paxSize) ? Number(paxSize) : NaN;
    this.pax = this.longName = this.longLink = null;
    if (!Number.isSafeInteger(size)) return err(`member ${JSON.stringify(name)} has an invalid pax size`);

    const checked = this.checkMember(type, name, link, size);
    if (!checked.ok) return checked;
    this.members++;
    this.skip = padded(size);
    this.state = this.skip === 0 ? "header" : "skip";
    return ok(undefined);
  }

  private checkMember(type: string, name: string, link: string, size: number): Result<void, string> {
    const parts = checkMemberName(name);
    if (!parts.ok) return parts;
    const path = parts.value;
    const under = this.symlinkAbove(path);
    if (under !== null) return err(`member ${JSON.stringify(name)} lies under the symlink member ${JSON.stringify(under)}`);
    const isFile = type === "0" || type === "\0" || type === "7";
    if (!isFile && size !== 0) return err(`member ${JSON.stringify(name)} of type "${type}" has a non-zero size`);
    if (type !== "5" && path.length === 0) return err(`member ${JSON.stringify(name)} would replace the cache root itself`);
    if (isFile && name.endsWith("/")) return err(`member ${JSON.stringify(name)} is a file with a directory name`);
    switch (type) {
      case "0":
      case "\0":
      case "7":
      case "5":
        return ok(undefined);
      case "2": {
        const target = checkSymlinkTarget(path, link);
        if (!target.ok) return target;
        this.symlinks.add(path.join("/"));
        return ok(undefined);
      }
      case "1": {
        const what = `hard link ${JSON.stringify(name)} -> ${JSON.stringify(link)}`;
        const target = checkMemberName(link);
        if (!target.ok) return err(`${what} is refused: ${target.error}`);
        if (target.value.length === 0) return err(`${what} points at the cache root`);
        const joined = target.value.join("/");
        // A hard link to a symlink is a second symlink whose relative target now starts elsewhere.
        if (this.symlinks.has(joined) || this.symlinkAbove(target.value) !== null) return err(`${what} points at or through a symlink member`);
        return ok(undefined);
      }
      default:
        return err(`member ${JSON.stringify(name)} has tar type "${type}" (${describeType(type)}), which cache archives do not hold`);
    }
  }

  private symlinkAbove(path: string[]): string | null {
    if (this.symlinks.size === 0) return null;
    let prefix = "";
    for (let i = 0; i < path.length - 1; i++) {
      prefix = i === 0 ? path[0]! : `${prefix}/${path[i]}`;
      if (this.symlinks.has(prefix)) return prefix;
    }
    return null;
  }
}

function describeType(type: string): string {
  switch (type) {
    case "3": return "character device";
    case "4": return "block device";
    case "6": return "FIFO";
    case "S": return "GNU sparse file";
    case "D": return "GNU incremental directory";
    case "M": return "multi-volume continuation";
    case "V": return "volume label";
    default: return "unknown";
  }
}

const ZSTD_MAGIC = 0xfd2fb528;
/** The largest a zstd block decodes to (RFC 8878 §3.1.1.2.4: min(window, 128 KiB)). */
const ZSTD_BLOCK_MAX = 128 << 10;
/**
 * Walks the frame and block headers of a zstd stream (RFC 8878 §3.1) without decoding them, so a
 * stream cut short or followed by junk is refused: Bun's streaming decompressor ends quietly on
 * both. Content checksums are verified by the decompressor itself. `onFrame`, if given, is told
 * where each frame (zstd or skippable) ends, as soon as its last header is read, with a bound on
 * its decoded size: the content size its header declares, if any (libzstd refuses a frame that
 * decodes to another size), else from its block headers (raw and RLE blocks give their size, a
 * compressed block decodes to at most 128 KiB); 0 for a skippable frame.
 */
export class ZstdFrameWalker {
  private field = new Uint8Array(16);
  private fill = 0;
  private need = 4;
  private expect: "magic" | "skippable-size" | "descriptor" | "header" | "block" = "magic";
  private skip = 0;
  private frames = 0;
  private offset = 0;
  private checksum = false;
  private bound = 0;
  private contentSizeBytes = 0;
  private contentSize = Infinity;

  constructor(private readonly onFrame?: (end: number, decodedBound: number, skippable: boolean) => void) {}

  /** Feeds the next compressed bytes. */
  push(chunk: Uint8Array): Result<void, string> {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, chunk.length - i);
        this.skip -= k;
        i += k;
        continue;
      }
      const k = Math.min(this.need - this.fill, chunk.length - i);
      this.field.set(chunk.subarray(i, i + k), this.fill);
      this.fill += k;
      i += k;
      if (this.fill < this.need) break;
      this.fill = 0;
      const done = this.onField(this.offset + i - this.need);
      if (!done.ok) return done;
    }
    this.offset += chunk.length;
    return ok(undefined);
  }

  /** Call at the end of the stream. */
  finish(): Result<void, string> {
    if (this.offset === 0) return err("the archive is empty (0 bytes)");
    if (this.expect === "magic" && this.fill === 0 && this.skip === 0 && this.frames > 0) return ok(undefined);
    return err(`the archive is truncated: its zstd data stops in the middle of a frame, at byte ${this.offset}`);
  }

  private onField(at: number): Result<void, string> {
    const f = this.field;
    switch (this.expect) {
      case "magic": {
        const magic = (f[0]! | (f[1]! << 8) | (f[2]! << 16) | (f[3]! << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) [this.expect, this.need] = ["descriptor", 1];
        else if (magic >>> 4 === 0x184d2a5) [this.expect, this.need] = ["skippable-size", 4];
        else return err(this.frames === 0 ? "the archive is not zstd-compressed (bad magic number)" : `the archive has junk after its zstd data, at byte ${at}`);
        return ok(undefined);
      }
      case "skippable-size":
        this.skip = (f[0]! | (f[1]! << 8) | (f[2]! << 16) | (f[3]! << 24)) >>> 0;
        [this.expect, this.need] = ["magic", 4];
        this.onFrame?.(at + 4 + this.skip, 0, true);
        return ok(undefined);
      case "descriptor": {
        const d = f[0]!;
        if (d & 0x08) return err(`the archive is corrupt: reserved bit set in the zstd frame header at byte ${at}`);
        const singleSegment = (d >> 5) & 1;
        this.contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][d >> 6]!;
        this.checksum = ((d >> 2) & 1) === 1;
        this.bound = 0;
        this.contentSize = Infinity;
        const rest = (singleSegment ? 0 : 1) + [0, 1, 2, 4][d & 3]! + this.contentSizeBytes;
        [this.expect, this.need] = rest === 0 ? ["block", 3] : ["header", rest];
        return ok(undefined);
      }
      case "header": {
        // The frame content size, if given, ends the header; the decoder holds a frame to it.
        const n = this.contentSizeBytes;
        const x = this.need - n;
        if (n === 1) this.contentSize = f[x]!;
        else if (n === 2) this.contentSize = (f[x]! | (f[x + 1]! << 8)) + 256;
        else if (n >= 4) {
          const u32 = (k: number) => (f[k]! | (f[k + 1]! << 8) | (f[k + 2]! << 16) | (f[k + 3]! << 24)) >>> 0;
          this.contentSize = u32(x) + (n === 8 ? u32(x + 4) * 2 ** 32 : 0);
        }
        [this.expect, this.need] = ["block", 3];
        return ok(undefined);
      }
      case "block": {
        const h = f[0]! | (f[1]! << 8) | (f[2]! << 16);
        const type = (h >> 1) & 3;
        if (type === 3) return err(`the archive is corrupt: reserved zstd block type at byte ${at}`);
        this.skip = type === 1 ? 1 : h >>> 3;
        this.bound += type === 2 ? ZSTD_BLOCK_MAX : h >>> 3;
        if (h & 1) {
          this.skip += this.checksum ? 4 : 0;
          this.frames++;
          [this.expect, this.need] = ["magic", 4];
          this.onFrame?.(at + 3 + this.skip, Math.min(this.bound, this.contentSize), false);
        }
        return ok(undefined);
      }
    }
  }
}

// Small frames are returned together (one decode of several frames), up to this size: a decode
// on the thread pool costs ~15 us, which made a stream of tiny frames 6x slower than one stream.
const GROUP_TARGET = 256 << 10;
/**
 * Cuts a zstd stream into its frames, for decoding them independently, in parallel, while
 * checking it with a ZstdFrameWalker. `push` returns the zstd frames completed by a chunk, in
 * order, small consecutive ones joined (up to GROUP_TARGET bytes), skippable ones dropped: a
 * view of the chunk when the bytes lie within it (the chunks are kept, not copied: like any
 * stream's consumer it takes a chunk to be its own once given), else a copy into a buffer that
 * `recycle` takes back once it is decoded; `finish` returns the last. A frame too large to hold
 * whole (more than `maxCompressed` bytes, or a decoded-size bound above `maxDecoded`; `tar |
 * zstd` makes one frame of any size) ends the splitting: `push` then returns in `rest` the bytes
 * from that frame's start on (for a streaming decoder), and from then on every later chunk whole.
 * Each piece returned holds at most `maxCompressed` bytes that decode to at most `maxDecoded`.
 */
export class ZstdFrameSplitter {
  private readonly walker = new ZstdFrameWalker((end, decodedBound, skippable) => this.ends.push({ end, decodedBound, skippable }));
  private ends: { end: number; decodedBound: number; skippable: boolean }[] = [];
  /** The stream's bytes from `start` (the start of the first frame not yet returned) on. */
  private parts: Uint8Array[] = [];
  private fill = 0;
  private start = 0;
  /** Complete frames at the start of `parts`, returned together once they make GROUP_TARGET bytes. */
  private group = 0;
  private groupBound = 0;
  private streaming = false;
  private pooled = new WeakSet<ArrayBuffer>();
  private free: ArrayBuffer[] = [];

  constructor(
    private readonly maxCompressed: number,
    private readonly maxDecoded: number,
  ) {}

  push(chunk: Uint8Array): Result<{ frames: Uint8Array[]; rest: Uint8Array[] | null }, string> {
    const walked = this.walker.push(chunk);
    if (!walked.ok) return walked;
    if (this.streaming) return ok({ frames: [], rest: [chunk] });
    if (chunk.length > 0) this.parts.push(chunk);
    this.fill += chunk.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      const next = this.ends[0];
      const size = next === undefined ? this.fill - this.group : next.end - this.start - this.group;
      if (size > this.maxCompressed || (next !== undefined && !next.skippable && next.decodedBound > this.maxDecoded)) {
        this.flushGroup(frames);
        this.streaming = true;
        const rest = this.parts;
        this.parts = [];
        this.fill = 0;
        return ok({ frames, rest });
      }
      if (next === undefined || this.group + size > this.fill) return ok({ frames, rest: null });
      this.ends.shift();
      if (next.skippable) {
        this.flushGroup(frames);
        this.take(size, false);
        continue;
      }
      if (this.group + size > this.maxCompressed || this.groupBound + next.decodedBound > this.maxDecoded) this.flushGroup(frames);
      this.group += size;
      this.groupBound += next.decodedBound;
      if (this.group >= GROUP_TARGET) this.flushGroup(frames);
    }
  }

  /** Call at the end of the stream: returns the last frames. */
  finish(): Result<Uint8Array[], string> {
    const walked = this.walker.finish();
    if (!walked.ok) return walked;
    const frames: Uint8Array[] = [];
    this.flushGroup(frames);
    return ok(frames);
  }

  private flushGroup(frames: Uint8Array[]): void {
    if (this.group > 0) frames.push(this.take(this.group, true)!);
    this.group = 0;
    this.groupBound = 0;
  }

  /** Takes back a frame `push` returned, once it is no longer used. */
  recycle(frame: Uint8Array): void {
    const buffer = frame.buffer as ArrayBuffer;
    if (this.pooled.has(buffer) && this.free.length < 4 && !this.free.includes(buffer)) this.free.push(buffer);
  }

  /** Takes the first `n` bytes of `parts`: a view of one part, or a copy of several. */
  private take(n: number, keep: boolean): Uint8Array | null {
    this.start += n;
    this.fill -= n;
    const first = this.parts[0]!;
    if (first.length >= n) {
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      return keep ? first.subarray(0, n) : null;
    }
    const out = keep ? this.buffer(n) : null;
    for (let at = 0; at < n; ) {
      const part = this.parts[0]!;
      const k = Math.min(part.length, n - at);
      out?.set(part.subarray(0, k), at);
      at += k;
      if (k === part.length) this.parts.shift();
      else this.parts[0] = part.subarray(k);
    }
    return out;
  }

  private buffer(n: number): Uint8Array {
    const i = this.free.findIndex((b) => b.byteLength >= n);
    if (i !== -1) return new Uint8Array(this.free.splice(i, 1)[0]!, 0, n);
    const buffer = new ArrayBuffer(Math.max(n, 3 << 20));
    this.pooled.add(buffer);
    return new Uint8Array(buffer, 0, n);
  }
}
