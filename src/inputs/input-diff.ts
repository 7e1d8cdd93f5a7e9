// What changed between two hash inputs (pure): for `--explain` and the debug lines of a task
// that decides to run. A hash input is the file listing (`<mode> <type> <object>\t<path>`
// lines, trimmed) immediately followed by the --raw values joined with "\n" (hash.ts).

import { changedPaths } from "./git-commands.ts";

/** A hash input split into its listing and its raw values. */
export interface SplitInput {
  listing: string;
  raw: string;
}

/** The difference between two hash inputs. */
export interface InputDiff {
  files: { path: string; change: "added" | "removed" | "changed" }[];
  rawRemoved: string[];
  rawAdded: string[];
}

const LISTING_LINE = /^[0-7]{6} [a-z]+ [0-9a-f]{40,64}\t/;

/**
 * Splits a hash input whose listing length is not known (the hash file keeps only the whole
 * input), using the current input as a hint: an unchanged listing is a prefix, unchanged raw
 * values a suffix. When both changed, the listing is taken to be the leading lines that look
 * like listing lines; the first raw value, glued to the last path, then shows as part of it.
 */
export function splitSaved(saved: string, current: SplitInput): SplitInput {
  if (current.listing !== "" && saved.startsWith(current.listing)) {
    return { listing: current.listing, raw: saved.slice(current.listing.length) };
  }
  if (current.raw !== "" && saved.endsWith(current.raw)) {
    return { listing: saved.slice(0, saved.length - current.raw.length), raw: current.raw };
  }
  const lines = saved.split("\n");
  let n = 0;
  while (n < lines.length && LISTING_LINE.test(lines[n]!)) n++;
  return { listing: lines.slice(0, n).join("\n"), raw: lines.slice(n).join("\n") };
}

function pathsOf(listing: string): Set<string> {
  const set = new Set<string>();
  for (const line of listing.split("\n")) {
    if (line === "") continue;
    const tab = line.indexOf("\t");
    set.add(tab < 0 ? line : line.slice(tab + 1));
  }
  return set;
}

/** Raw values in `a` that are not in `b` (as many times as they are missing). */
function minus(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((v) => {
    const i = left.indexOf(v);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

/** The files added, removed or changed, and the raw values removed and added. */
export function diffInputs(before: SplitInput, after: SplitInput): InputDiff {
  const a = pathsOf(before.listing);
  const b = pathsOf(after.listing);
  const files = changedPaths(before.listing, after.listing).map((path) => ({
    path,
    change: !a.has(path) ? ("added" as const) : !b.has(path) ? ("removed" as const) : ("changed" as const),
  }));
  const rawBefore = before.raw === "" ? [] : before.raw.split("\n");
  const rawAfter = after.raw === "" ? [] : after.raw.split("\n");
  return { files, rawRemoved: minus(rawBefore, rawAfter), rawAdded: minus(rawAfter, rawBefore) };
}

const MAX_RAW = 60;
const MAX_FILES = 20;

/** A raw value for display: quoted, and cut after 60 characters with its full length. */
export function showRaw(value: string): string {
  if (value.length <= MAX_RAW) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_RAW))}... (${Buffer.byteLength(value)} bytes)`;
}

/** One line per change (at most 20 files, then a count), or one line saying there is none. */
export function describeDiff(diff: InputDiff): string[] {
  const lines = diff.files.slice(0, MAX_FILES).map((f) => `${f.change} file ${f.path}`);
  if (diff.files.length > MAX_FILES) lines.push(`... and ${diff.files.length - MAX_FILES} more files`);
  for (const v of diff.rawRemoved) lines.push(`removed raw ${showRaw(v)}`);
  for (const v of diff.rawAdded) lines.push(`added raw ${showRaw(v)}`);
  if (lines.length === 0) lines.push("no difference in the hash input");
  return lines;
}
