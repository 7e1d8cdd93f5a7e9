// The file-system fingerprint of a stat scope (stat-scope.ts): one 64-bit hash over the lstat
// data of everything the git hash reads, walked in a fixed order. Equal fingerprints mean git
// would see the same files, with one proviso that is git's own "racy git" problem: a file
// rewritten at the same size within one tick of the file-system clock keeps its mtime and ctime.
// So an entry whose mtime or ctime is recent when it is recorded ("racy") is fingerprinted by
// its content instead, and stays so until the memo is recorded again. Anything changed later
// gets a ctime at least a tick past the recording, which a non-racy entry's ctime (older than
// the window) can never equal; ctime cannot be set back by user programs.
import { lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { type Result, ok, err } from "../result.ts";
import type { StatScope } from "./stat-scope.ts";

/** How a fingerprint is taken. */
export interface FingerprintOptions {
  /** Entries recorded as racy: fingerprinted by content. */
  racy: ReadonlySet<string>;
  /** Wall-clock time (ms) the entries' times are compared with to find racy ones. */
  now: number;
  /** An entry changed less than this long before `now` is racy (a tick is ≤ 10 ms on Linux; file systems with 1 s or 2 s times exist). */
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
  racyNow: string[];
  entries: number;
}

const TYPE: Record<number, string> = { 0o040000: "d", 0o100000: "f", 0o120000: "l" };
const typeOf = (mode: number): string => TYPE[mode & 0o170000] ?? "o";

/** Fingerprints the scope, or says why it cannot be (then git is the only answer). */
export function fingerprint(scope: StatScope, options: FingerprintOptions): Result<Fingerprint> {
  const walk = new Walk(scope.root, options);
  try {
    for (const path of scope.watched) walk.file(`W${path}`, path);
    for (const rel of scope.ancestors) walk.ancestor(rel);
    for (const rel of scope.targets) walk.target(rel);
  } catch (e) {
    if (e instanceof GiveUp) return err(e.message);
    return err(`cannot read ${(e as NodeJS.ErrnoException).path ?? "a file"}: ${(e as Error).message}`);
  }
  return ok(walk.result());
}

class GiveUp extends Error {}

class Walk {
  private readonly now: string[] = [];
  private readonly fresh: string[] = [];
  private readonly racyNow: string[] = [];
  private freshKnown = true;
  private entries = 0;

  constructor(
    private readonly root: string,
    private readonly options: FingerprintOptions,
  ) {}

  result(): Fingerprint {
    const hash = (parts: string[]) => Bun.hash(parts.join("")).toString(36);
    return { hash: hash(this.now), fresh: this.freshKnown ? hash(this.fresh) : null, racyNow: this.racyNow, entries: this.entries };
  }

  /** A file whose content matters (or a missing one, whose appearance would). */
  file(id: string, abs: string): Stats | null {
    const st = lstatOrNull(abs);
    if (st === null) {
      this.both(`${label(id)}-`);
      return null;
    }
    const head = `${label(id)}${typeOf(st.mode)}${st.mode},${st.size},`;
    const statPart = `${st.ino},${st.dev},${st.mtimeMs},${st.ctimeMs};`;
    const racyNow = Math.max(st.mtimeMs, st.ctimeMs) >= this.options.now - this.options.racyWindowMs;
    const recordedRacy = this.options.racy.has(id);
    let content: string | null = null;
    if (recordedRacy || (racyNow && this.options.readNewlyRacy)) content = contentHash(abs, st);
    this.now.push(head + (recordedRacy ? `#${content};` : statPart));
    if (racyNow) {
      this.racyNow.push(id);
      if (content === null) this.freshKnown = false;
      else this.fresh.push(`${head}#${content};`);
    } else this.fresh.push(head + statPart);
    return st;
  }

  /** A directory between the root and a target: only its kind matters (its rules are watched). */
  ancestor(rel: string): void {
    const st = lstatOrNull(join(this.root, rel));
    this.both(`${label(`A${rel}`)}${st === null ? "-" : typeOf(st.mode)}`);
  }

  /** A pathspec target: lstat'ed, and walked if it is a directory. */
  target(rel: string): void {
    const st = this.file(`F${rel}`, join(this.root, rel));
    if (st?.isDirectory()) this.directory(rel);
  }

  private directory(rel: string): void {
    const abs = join(this.root, rel);
    const names = readdirSync(abs).sort();
    this.entries += names.length;
    if (this.entries > this.options.maxEntries) throw new GiveUp(`more than ${this.options.maxEntries} files to watch`);
    // Names as read: one that is not UTF-8 comes back with U+FFFD and could not be lstat'ed.
    if (names.some((n) => n.includes("\uFFFD"))) throw new GiveUp(`a file name under ${abs} is not UTF-8`);
    this.both(`${label(`N${rel}`)}${names.map(label).join("")}`);
    for (const name of names) {
      if (name === ".git") {
        if (rel === "") continue; // the repository's own: its index and rules are watched
        throw new GiveUp(`${join(abs, name)} is a nested repository`);
      }
      const child = rel === "" ? name : `${rel}/${name}`;
      const st = this.file(`F${child}`, join(abs, name));
      if (st?.isDirectory()) this.directory(child);
    }
  }

  private both(record: string): void {
    this.now.push(record);
    this.fresh.push(record);
  }
}

// Length-prefixed, so that no two different sequences of names or paths join to the same text.
const label = (s: string): string => `${s.length}:${s};`;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}

function contentHash(abs: string, st: Stats): string {
  if (st.isFile()) return Bun.hash(readFileSync(abs)).toString(36);
  if (st.isSymbolicLink()) return Bun.hash(readlinkSync(abs, { encoding: "buffer" })).toString(36);
  return "";
}
