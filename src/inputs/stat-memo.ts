// The stat shortcut: a memo of one task's last git listing, valid while the file-system
// fingerprint of everything git read for it (stat-scope.ts, stat-fingerprint.ts) is unchanged.
// A hit answers the hash without starting git; anything else goes to git, which remains the
// reference. The memo is only a cache: losing it, or a stale or corrupt one, costs a git run.
//
// File: one JSON line {v, key, hash, racy}, then the listing bytes (which need not be UTF-8).
import { readFileSync } from "node:fs";
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

export const DEFAULT_MEMO_OPTIONS: MemoOptions = { racyWindowMs: 3000, maxEntries: 200_000 };

interface Memo {
  hash: string;
  racy: string[];
  listing: Uint8Array;
}

/** The memo's listing if it still holds for the file system now, else null. */
export function lookupMemo(path: string, scope: StatScope, options: MemoOptions): Uint8Array | null {
  const memo = readMemo(path, scope.key);
  if (memo === null) return null;
  const fp = fingerprint(scope, { racy: new Set(memo.racy), now: Date.now(), readNewlyRacy: false, ...options });
  if (!fp.ok || fp.value.hash !== memo.hash) return null;
  // Entries recorded as racy that have aged: recording again lets later runs skip reading them.
  if (fp.value.fresh !== null && fp.value.fresh !== memo.hash) {
    tryWrite(path, scope.key, { hash: fp.value.fresh, racy: fp.value.racyNow, listing: memo.listing });
  }
  return memo.listing;
}

/** The fingerprint before git runs, or why the shortcut cannot apply (nothing is recorded then). */
export function fingerprintBefore(scope: StatScope, options: MemoOptions): Result<Fingerprint> {
  for (const path of scope.configs) {
    const text = readOrNull(path);
    if (text !== null && OPAQUE_CONFIG.test(text)) return err(`${path} includes or names files the shortcut does not watch`);
  }
  return fingerprint(scope, { racy: new Set(), now: Date.now(), readNewlyRacy: true, ...options });
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}

/**
 * Records git's listing if nothing git may have read changed while it ran: the fingerprint
 * after git, taken with the same racy set, must equal the one before. Otherwise nothing is
 * written: an older memo describes an older state, and is still right for it.
 */
export function recordMemo(path: string, scope: StatScope, before: Fingerprint, listing: Uint8Array, options: MemoOptions): void {
  const after = fingerprint(scope, { racy: new Set(before.racyNow), now: Date.now(), readNewlyRacy: false, ...options });
  if (before.fresh !== null && after.ok && after.value.hash === before.fresh) tryWrite(path, scope.key, { hash: before.fresh, racy: before.racyNow, listing });
}

function readMemo(path: string, key: string): Memo | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  const nl = bytes.indexOf(10);
  if (nl < 0) return null;
  try {
    const head = JSON.parse(bytes.subarray(0, nl).toString("utf8")) as { v?: unknown; key?: unknown; hash?: unknown; racy?: unknown };
    if (head.v !== VERSION || head.key !== key || typeof head.hash !== "string" || !Array.isArray(head.racy)) return null;
    if (!head.racy.every((r) => typeof r === "string")) return null;
    return { hash: head.hash, racy: head.racy as string[], listing: bytes.subarray(nl + 1) };
  } catch {
    return null;
  }
}

function tryWrite(path: string, key: string, memo: Memo): void {
  const head = JSON.stringify({ v: VERSION, key, hash: memo.hash, racy: memo.racy });
  try {
    writeFileAtomic(path, Buffer.concat([Buffer.from(`${head}\n`), memo.listing]));
  } catch {
    // Only a cache: the next run asks git again.
  }
}
