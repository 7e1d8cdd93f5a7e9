// The file-system fingerprint of a stat scope (stat-scope.ts): a hash over the lstat data of
// everything the git hash reads, walked in a fixed order. Equal fingerprints mean git would
// see the same files, with one proviso that is git's own "racy git" problem: a file rewritten
// at the same size within one tick of the file-system clock keeps its mtime and ctime. So an
// entry whose mtime or ctime is recent when it is recorded ("racy") is fingerprinted by its
// content as well, and stays so until the memo is recorded again. Anything changed later gets a
// ctime at least a tick past the recording, which a non-racy entry's ctime (older than the
// window) can never equal; ctime cannot be set back by user programs.
//
// The walk is the whole cost of a hit (10,000 files: about 20 ms in the executable, half of it
// the statx calls themselves), so it does little per entry in JavaScript: statx through libc
// writes each entry's struct straight into the records, which are C memory (see cMemory in
// libc.ts), the few fields the walk needs are read with bun:ffi's `read`, and the records are
// hashed natively. Entries inside walked directories are known by their position in the walk,
// not by path: the names of every directory are part of the fingerprint, so a position always
// means the same path.
import { closeSync, constants, openSync, readFileSync, readdirSync, readlinkSync } from "../sys/fs.ts";
import { join } from "../sys/path.ts";
import { type Result, ok, err } from "../result.ts";
import { read, toArrayBuffer, type Pointer } from "bun:ffi";
import { cMemory, freeMemory, lstatInto } from "../sys/libc.ts";
import type { StatScope } from "./stat-scope.ts";

/** How a fingerprint is taken. */
export interface FingerprintOptions {
  /** Entries recorded as racy (ids as in `racyNow`): fingerprinted by content as well. */
  racy: readonly string[];
  /** Wall-clock time (ms) the entries' times are compared with to find racy ones. */
  now: number;
  /** An entry changed less than this long before `now` is racy (a tick is ≤ 10 ms on Linux; some file systems keep 1 s or 2 s). */
  racyWindowMs: number;
  /** Walking more entries than this gives up (git is then as fast). */
  maxEntries: number;
  /** Read entries that are racy now but not recorded so (recording: yes; checking a memo: no, it misses anyway). */
  readNewlyRacy: boolean;
}

export interface Fingerprint {
  /** The fingerprint with the recorded racy set (`options.racy`): compared with the memo's. */
  hash: string;
  /**
   * The fingerprint as it would be recorded now, with `racyNow` as its racy set; null when an
   * entry newly racy was not read (the first hash then differs from the memo's anyway).
   */
  fresh: string | null;
  /** Ids of the entries racy now: `W` and a watched path, `T` and a target, or `#` and the position of an entry in the walk. */
  racyNow: string[];
  entries: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** A record is a struct statx: 64 words. */
const WORDS = 64;
const BYTES = WORDS * 4;
// Byte offsets in struct statx.
const MODE = 28;
const CTIME = 96;
const MTIME = 112;
// Words that change without the content changing, cleared in one call: blocks (12-13, delayed
// allocation), attributes_mask (14-15, constant anyway) and atime (16-19).
const VOLATILE = [12, 20] as const;
// Record kinds, in word 0 (stx_mask for a stat record, never 0 or all ones).
const MISSING = 0;
const CONTENT = 0xffffffff;

/** Fingerprints the scope, or says why it cannot be (then git is the only answer). */
export function fingerprint(scope: StatScope, options: FingerprintOptions): Result<Fingerprint> {
  const walk = new Walk(options);
  try {
    for (const path of scope.watched) walk.named(`W${path}`, path, true);
    for (const rel of scope.ancestors) walk.ancestor(join(scope.root, rel));
    for (const rel of scope.targets) {
      const abs = join(scope.root, rel);
      if (walk.named(`T${rel}`, abs, false) === S_IFDIR) walk.directory(abs, rel === "");
    }
  } catch (e) {
    walk.closeAll();
    walk.release();
    if (e instanceof GiveUp) return err(e.message);
    return err(`cannot read ${(e as { path?: string }).path ?? "a file"}: ${(e as Error).message}`);
  }
  const result = walk.result();
  walk.release();
  return ok(result);
}

class GiveUp extends Error {}

/** The records of one fingerprint, one struct statx each, in walk order. */
class Records {
  // C memory (see cMemory in libc.ts): statx writes each record straight into it.
  private base: Pointer;
  private data: Uint32Array;
  count = 0;

  constructor() {
    this.base = cMemory(BYTES * 256);
    this.data = view(this.base, BYTES * 256);
  }

  /** Doubles the room when the next record would not fit. */
  private grow(): void {
    if ((this.count + 1) * WORDS <= this.data.length) return;
    const bytes = this.data.length * 8;
    const base = cMemory(bytes);
    const data = view(base, bytes);
    data.set(this.data.subarray(0, this.count * WORDS));
    this.release();
    this.base = base;
    this.data = data;
  }

  /** Frees the C memory; the records are gone after this. */
  release(): void {
    freeMemory(this.base);
    this.data = new Uint32Array(0);
  }

  /** The address of the next record (room for it made); `push*` makes it part of the fingerprint. */
  next(): Pointer {
    this.grow();
    return (this.base + this.count * BYTES) as Pointer;
  }

  /** Takes the struct statx wrote at `next()`, without the words that change by themselves. */
  pushStat(): void {
    const at = this.count++ * WORDS;
    this.data.fill(0, at + VOLATILE[0], at + VOLATILE[1]);
  }

  pushMissing(): void {
    this.next();
    const at = this.count++ * WORDS;
    this.data.fill(MISSING, at, at + WORDS);
  }

  /** A copy of record `i` (read natively, so never stale). */
  copy(i: number): Uint32Array {
    return this.data.slice(i * WORDS, (i + 1) * WORDS);
  }

  put(i: number, record: Uint32Array): void {
    this.data.set(record, i * WORDS);
  }

  hash(): string {
    const d = this.data;
    return BigInt(Bun.hash(d.subarray(0, this.count * WORDS))).toString(36);
  }
}

const view = (p: Pointer, bytes: number): Uint32Array => new Uint32Array(toArrayBuffer(p, 0, bytes));

/**
 * A racy entry's record: its stat record (`stat`, a copy) marked as by content and carrying the
 * content's hash in its last two words (spare in struct statx). The stat data stays: git's own
 * answer depends on it, not only on the content. Once attributes change (`eol`, filters), a file
 * whose stat matches the index keeps its old blob while a touched one is hashed anew; comparing
 * content alone took a touch for no change (the differential test found it).
 */
function contentRecord(stat: Uint32Array, hash: bigint): Uint32Array {
  const r = stat.slice();
  r[0] = CONTENT;
  r[WORDS - 2] = Number(hash & 0xffffffffn);
  r[WORDS - 1] = Number(hash >> 32n);
  return r;
}

class Walk {
  /** Labels and names: the text part of the fingerprint. */
  private readonly text: string[] = [];
  /** Records as compared with the memo (recorded racy set); `fresh` patches them for recording now. */
  private readonly records = new Records();
  private readonly fresh: { index: number; record: Uint32Array }[] = [];
  private readonly racyNow: string[] = [];
  private freshKnown = true;
  private position = 0;
  private readonly open: number[] = [];
  private readonly racyNames: ReadonlySet<string>;
  private readonly racyPositions: ReadonlySet<number>;
  /** Entries changed at or after this second (whole seconds, rounded down: more racy, never fewer) are racy. */
  private readonly racySince: number;

  constructor(private readonly options: FingerprintOptions) {
    this.racyNames = new Set(options.racy.filter((id) => !id.startsWith("#")));
    this.racyPositions = new Set(options.racy.filter((id) => id.startsWith("#")).map((id) => Number(id.slice(1))));
    this.racySince = Math.floor((options.now - options.racyWindowMs) / 1000);
  }

  result(): Fingerprint {
    const text = BigInt(Bun.hash(this.text.join(""))).toString(36);
    const hash = `${text}.${this.records.hash()}`;
    for (const { index, record } of this.fresh) this.records.put(index, record);
    return {
      hash,
      fresh: this.freshKnown ? `${text}.${this.records.hash()}` : null,
      racyNow: this.racyNow,
      entries: this.position,
    };
  }

  closeAll(): void {
    for (const fd of this.open.splice(0)) closeSync(fd);
  }

  release(): void {
    this.records.release();
  }

  /**
   * A watched file (followed if it is a symlink: git reads the configuration or rules it points
   * to, as a dotfile manager's ~/.gitconfig) or a target (not followed: git hashes a symlink
   * itself), by absolute path. Returns its file type (S_IFMT bits), 0 if missing.
   */
  named(id: string, abs: string, follow: boolean): number {
    this.text.push(label(id));
    return this.entry(null, abs, id, this.racyNames.has(id), "", abs, follow);
  }

  /** A directory between the root and a target: only its kind matters (its rules are watched). */
  ancestor(abs: string): void {
    const at = this.records.next();
    this.text.push(`${label(`A${abs}`)}${lstatInto(null, abs, at) ? read.u32(at, MODE) & S_IFMT : "-"};`);
  }

  /** Walks a directory: its sorted names, then each entry, depth first. */
  directory(abs: string, isRoot: boolean): void {
    const names = readdirSync(abs).sort();
    if (this.position + names.length > this.options.maxEntries) throw new GiveUp(`more than ${this.options.maxEntries} files to watch`);
    // Names as read: one that is not UTF-8 comes back with U+FFFD and could not be lstat'ed.
    // Count, then each name ended by "/" (which no name contains): unambiguous.
    const joined = `${names.length}/${names.join("/")}/`;
    if (joined.includes("\uFFFD")) throw new GiveUp(`a file name under ${abs} is not UTF-8`);
    this.text.push(joined);
    const fd = openSync(abs, constants.O_RDONLY | constants.O_DIRECTORY);
    this.open.push(fd);
    const records = this.records;
    const since = this.racySince;
    const anyRacy = this.racyPositions.size > 0;
    for (const name of names) {
      if (name === ".git") {
        if (isRoot) continue; // the repository's own: its index and rules are watched
        throw new GiveUp(`${join(abs, name)} is a nested repository`);
      }
      const position = this.position++;
      // The common case inline (this loop is the cost of a hit): present, not racy then or now.
      const at = records.next();
      let type: number;
      if (lstatInto(fd, name, at) && !(anyRacy && this.racyPositions.has(position)) && read.u32(at, MTIME) < since && read.u32(at, CTIME) < since) {
        type = read.u32(at, MODE) & S_IFMT;
        records.pushStat();
      } else {
        type = this.entry(fd, name, position, this.racyPositions.has(position), abs, name, false);
      }
      if (type === S_IFDIR) this.directory(`${abs}/${name}`, false);
    }
    this.open.pop();
    closeSync(fd);
  }

  /**
   * Records one entry, lstat'ed (or stat'ed: `follow`) as `name` in `dirFd` (or the absolute `name`): by stat data, or
   * by content as well if it was recorded racy. `key` is its id (a string, or a walk position), `dir`
   * and `file` its path; strings are built only for racy entries. Returns its file type.
   */
  private entry(dirFd: number | null, name: string, key: string | number, recordedRacy: boolean, dir: string, file: string, follow: boolean): number {
    const at = this.records.next();
    if (!lstatInto(dirFd, name, at, follow)) {
      this.records.pushMissing();
      return 0;
    }
    const type = read.u32(at, MODE) & S_IFMT;
    // Seconds, low words (a time past 2106 or before 1970 reads as racy or old; both are safe:
    // an old one still goes by its full stat data).
    const racyNow = read.u32(at, MTIME) >= this.racySince || read.u32(at, CTIME) >= this.racySince;
    const readContent = recordedRacy || (racyNow && this.options.readNewlyRacy);
    const content = readContent ? contentHash(dir === "" ? file : `${dir}/${file}`, type) : null;
    const index = this.records.count;
    this.records.pushStat();
    if (content !== null) {
      const byStat = this.records.copy(index);
      const byContent = contentRecord(byStat, content);
      if (recordedRacy) {
        // Compared by content too; recorded by stat data alone once no longer racy.
        if (!racyNow) this.fresh.push({ index, record: byStat });
        this.records.put(index, byContent);
      } else {
        // Racy now, not before: the stat record is compared, the content one is recorded.
        this.fresh.push({ index, record: byContent });
      }
    }
    if (racyNow) {
      this.racyNow.push(typeof key === "number" ? `#${key}` : key);
      if (content === null) this.freshKnown = false;
    }
    return type;
  }
}

// Length-prefixed, so that no two different sequences of paths join to the same text.
const label = (s: string): string => `${s.length}:${s};`;

function contentHash(abs: string, type: number): bigint {
  if (type === S_IFREG) return BigInt(Bun.hash(readFileSync(abs)));
  if (type === S_IFLNK) return BigInt(Bun.hash(readlinkSync(abs, { encoding: "buffer" })));
  return 0n;
}
