import { readFileSync, utimesSync, statSync } from "../sys/fs.ts";
import { writeFileAtomic } from "./atomic-file.ts";

// `hash/<name>.history.json`: the last two decisions of a task, for `--explain` (the hash file
// keeps its three keys, as the earlier implementation wrote them).
//
// Records are written only when a task runs, is restored or is primed: that is a new hash input
// worth explaining. A skip writes no record: its hash input is the latest record's (or the hash
// file's), so a record would say nothing new, and rewriting a JSON file that holds two whole
// hash inputs (700 KB for 10,000 files) would cost the no-op path. A skip only bumps the file's
// mtime (one utimes call, no read, no write); the run path sets the mtime to the record's own
// time, so a later mtime means "skipped since, last at mtime".

/** How a recorded decision ended. */
export type RecordOutcome = "ran" | "restored" | "primed";

/** One recorded decision. */
export interface HistoryRecord {
  /** ISO-8601 UTC time of the decision. */
  time: string;
  outcome: RecordOutcome;
  hash: string;
  hashInput: string;
  /** Length of the file listing at the head of hashInput (the rest are the raw values). */
  listingLength: number;
}

/** A task's history: oldest record first, and the last skip after the latest record, if any. */
export interface History {
  records: HistoryRecord[];
  lastSkip: Date | null;
}

/** The history file next to a hash file. */
export function historyPath(hashPath: string): string {
  return hashPath.replace(/\.hash$/, "") + ".history.json";
}

/** Marks a skip: bumps the history file's mtime; nothing if there is no history yet. */
export function noteSkip(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // No history yet (the task last ran before histories were kept): nothing to mark.
  }
}

function isRecord(v: unknown): v is HistoryRecord {
  const r = v as Record<string, unknown>;
  return typeof r === "object" && r !== null && typeof r.time === "string" && typeof r.hash === "string" &&
    typeof r.hashInput === "string" && typeof r.listingLength === "number" &&
    (r.outcome === "ran" || r.outcome === "restored" || r.outcome === "primed");
}

/** Reads a history; a missing or malformed file is null. */
export function readHistory(path: string): History | null {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(path, "utf8");
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return null;
  }
  let records: HistoryRecord[];
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v) || !v.every(isRecord)) return null;
    records = v;
  } catch {
    return null;
  }
  const latest = records.at(-1);
  // The run path set the mtime to the latest record's time; anything later is a skip.
  const lastSkip = latest !== undefined && mtimeMs > Date.parse(latest.time) + 1 ? new Date(mtimeMs) : null;
  return { records, lastSkip };
}

/** Appends a record, keeping the last two, atomically (temp file + rename). */
export function appendHistory(path: string, record: HistoryRecord): void {
  const previous = readHistory(path)?.records.at(-1);
  const body = JSON.stringify(previous === undefined ? [record] : [previous, record]);
  writeFileAtomic(path, body, { mtime: new Date(record.time) });
}
