// The stat shortcut: a memo of one task's last git listing, valid while the file-system
// fingerprint of everything git read for it (stat-scope.ts, stat-fingerprint.ts) is unchanged.
// A hit answers the hash without starting git; anything else goes to git, which remains the
// reference. The memo is only a cache: losing it, or a stale or corrupt one, costs a git run.
//
// File: one JSON line {v, key, hash, racy}, then the listing bytes (which need not be UTF-8);
// or {v, key, declined, index} alone: the shortcut does not apply to these inputs (too many
// files, a nested repository, configuration it cannot follow), and is not tried again, walking
// for nothing, until the index changes.
import { readFileOrNull, statSync } from "../sys/fs.ts";
import { writeFileAtomic } from "../state/atomic-file.ts";
import { fingerprint, type Fingerprint } from "./stat-fingerprint.ts";
import { OPAQUE_CONFIG, type StatScope } from "./stat-scope.ts";
import { type Result, err } from "../result.ts";

const VERSION = 1;

export interface MemoOptions {
  /** See FingerprintOptions.racyWindowMs. */
  racyWindowMs: number;
  maxEntries: number;
}

// Measured on the compiled executable (one pathspec): the walk answers 2,000 files in 19 ms
// against git's 23, 5,000 in 26 against 29, and 10,000 in 37 against 37; past that git's own
// lstat loop is as fast, and recording walks twice: git alone is then the better answer.
export const DEFAULT_MEMO_OPTIONS: MemoOptions = { racyWindowMs: 3000, maxEntries: 10_000 };

interface Memo {
  hash: string;
  racy: string[];
  listing: Uint8Array;
}

/**
 * What the memo says now: the listing (a hit), "declined" (do not try), or "miss", with the
 * walk already made if there was one: taken before git runs, it serves as `fingerprintBefore`'s.
 */
export type Lookup =
  | { kind: "hit"; listing: Uint8Array }
  | { kind: "declined"; reason: string }
  | { kind: "miss"; walked: Result<Fingerprint> | null };

/** Looks the scope up in the memo at `path`. */
export function lookupMemo(path: string, scope: StatScope, options: MemoOptions): Lookup {
  const memo = readMemo(path, scope.key);
  if (memo === null) return { kind: "miss", walked: null };
  if ("kind" in memo) return memo.index === indexSignature(scope) ? { kind: "declined", reason: memo.reason } : { kind: "miss", walked: null };
  // Entries newly racy are read too: on a miss this walk is the one recorded (one walk fewer).
  const fp = fingerprint(scope, { racy: memo.racy, now: Date.now(), readNewlyRacy: true, ...options });
  if (!fp.ok || fp.value.hash !== memo.hash) return { kind: "miss", walked: fp };
  // Entries recorded as racy that have aged: recording again lets later runs skip reading them.
  if (fp.value.fresh !== null && fp.value.fresh !== memo.hash) {
    tryWrite(path, scope.key, { hash: fp.value.fresh, racy: fp.value.racyNow, listing: memo.listing });
  }
  return { kind: "hit", listing: memo.listing };
}

/**
 * The question the memo at `path` answers (directory and pathspecs), if it holds a listing of
 * fewer than `maxLines` files: what `warmUp` in hash.ts rehearses while the task's bash starts.
 */
export function memoQuestion(path: string, maxLines: number): { cwd: string; pathspecs: string[] } | null {
  const file = readMemoFile(path);
  if (file === null || typeof file.head.key !== "string" || typeof file.head.hash !== "string") return null;
  // The listing is trimmed: its files are its newlines plus one.
  const { listing } = file;
  let files = listing.length > 0 ? 1 : 0;
  for (let i = listing.indexOf(10); i >= 0 && files < maxLines; i = listing.indexOf(10, i + 1)) files++;
  if (files >= maxLines) return null;
  try {
    const key = JSON.parse(file.head.key) as { cwd?: unknown; pathspecs?: unknown };
    if (typeof key.cwd !== "string" || !Array.isArray(key.pathspecs) || !key.pathspecs.every((p) => typeof p === "string")) return null;
    return { cwd: key.cwd, pathspecs: key.pathspecs as string[] };
  } catch {
    return null;
  }
}

/** Walks the scope and drops the result: no memo is read for an answer, nothing is written. */
export function rehearse(scope: StatScope, options: MemoOptions): void {
  fingerprint(scope, { racy: [], now: Date.now(), readNewlyRacy: false, ...options });
}

/**
 * The fingerprint before git runs, or why the shortcut cannot apply; then nothing will be
 * recorded, and the memo says so until the index changes.
 */
export function fingerprintBefore(path: string, scope: StatScope, options: MemoOptions, walked: Result<Fingerprint> | null): Result<Fingerprint> {
  const fp = opaqueConfig(scope) ?? walked ?? fingerprint(scope, { racy: [], now: Date.now(), readNewlyRacy: true, ...options });
  if (!fp.ok) tryWriteHead(path, { v: VERSION, key: scope.key, declined: fp.error, index: indexSignature(scope) }, new Uint8Array(0));
  return fp;
}

function opaqueConfig(scope: StatScope): Result<never> | null {
  for (const path of scope.configs) {
    const text = readFileOrNull(path, "latin1");
    if (text !== null && OPAQUE_CONFIG.test(text)) return err(`${path} includes or names files the shortcut does not watch`);
  }
  return null;
}

// Any write of the index (add, commit, checkout, status refreshing it) renames a new file in.
function indexSignature(scope: StatScope): string {
  const st = statSync(scope.index, { throwIfNoEntry: false });
  return st === undefined ? "none" : `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}


/**
 * Records git's listing if nothing git may have read changed while it ran: the fingerprint
 * after git, taken with the same racy set, must equal the one before. Otherwise nothing is
 * written: an older memo describes an older state, and is still right for it.
 */
export function recordMemo(path: string, scope: StatScope, before: Fingerprint, listing: Uint8Array, options: MemoOptions): void {
  const after = fingerprint(scope, { racy: before.racyNow, now: Date.now(), readNewlyRacy: false, ...options });
  if (before.fresh !== null && after.ok && after.value.hash === before.fresh) tryWrite(path, scope.key, { hash: before.fresh, racy: before.racyNow, listing });
}

function readMemo(path: string, key: string): Memo | { kind: "declined"; reason: string; index: string } | null {
  const file = readMemoFile(path);
  if (file === null || file.head.key !== key) return null;
  const { head, listing } = file;
  if (typeof head.declined === "string" && typeof head.index === "string") return { kind: "declined", reason: head.declined, index: head.index };
  if (typeof head.hash !== "string" || !Array.isArray(head.racy) || !head.racy.every((r) => typeof r === "string")) return null;
  return { hash: head.hash, racy: head.racy as string[], listing };
}

/** A memo file of this version, split into its head line and the listing; null if missing or not one. */
function readMemoFile(path: string): { head: Record<string, unknown>; listing: Buffer } | null {
  const bytes = readFileOrNull(path);
  if (bytes === null) return null;
  const nl = bytes.indexOf(10);
  if (nl < 0) return null;
  try {
    const head = JSON.parse(bytes.subarray(0, nl).toString("utf8")) as unknown;
    if (typeof head !== "object" || head === null || (head as { v?: unknown }).v !== VERSION) return null;
    return { head: head as Record<string, unknown>, listing: bytes.subarray(nl + 1) };
  } catch {
    return null;
  }
}

function tryWrite(path: string, key: string, memo: Memo): void {
  tryWriteHead(path, { v: VERSION, key, hash: memo.hash, racy: memo.racy }, memo.listing);
}

function tryWriteHead(path: string, head: object, listing: Uint8Array): void {
  try {
    writeFileAtomic(path, Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), listing]));
  } catch {
    // Only a cache: the next run asks git again.
  }
}
