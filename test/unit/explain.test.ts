import { test, expect, describe } from "bun:test";
import { mkdtempSync, rmSync, utimesSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCli } from "../../src/cli.ts";
import { describeDiff, diffInputs, showRaw, splitSaved } from "../../src/inputs/input-diff.ts";
import { appendHistory, historyPath, noteSkip, readHistory, type HistoryRecord } from "../../src/state/history.ts";
import { renderExplain } from "../../src/explain.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const line = (sha: string, path: string) => `100644 blob ${sha}\t${path}`;

describe("--explain on the command line", () => {
  test.each([
    [["--explain", "gen"], { ok: true, value: { kind: "explain", name: "gen" } }],
    [["--explain=gen"], { ok: true, value: { kind: "explain", name: "gen" } }],
    [["--explain"], { ok: false, error: "--explain takes one task NAME, got none" }],
    [["--explain", "a", "b"], { ok: false, error: '--explain takes one task NAME, got "a b"' }],
    // A bare word is always CMD, never a subcommand.
    [["explain", "gen"], { ok: true, value: { kind: "run", name: null, force: false, command: ["explain", "gen"] } }],
  ] as const)("parseCli(%j)", (argv, expected) => {
    expect(parseCli([...argv])).toEqual(expected as never);
  });
});

describe("diffInputs", () => {
  test("files added, removed, changed; raw values removed and added", () => {
    const before = { listing: [line(A, "a"), line(A, "b")].join("\n"), raw: "keep\nold" };
    const after = { listing: [line(B, "a"), line(A, "c")].join("\n"), raw: "keep\nnew" };
    expect(describeDiff(diffInputs(before, after))).toEqual([
      "changed file a",
      "removed file b",
      "added file c",
      'removed raw "old"',
      'added raw "new"',
    ]);
  });
  test("nothing changed", () => {
    const same = { listing: line(A, "a"), raw: "" };
    expect(describeDiff(diffInputs(same, same))).toEqual(["no difference in the hash input"]);
  });
  test("many files are counted, not all listed", () => {
    const after = { listing: Array.from({ length: 25 }, (_, i) => line(A, `f${i}`)).join("\n"), raw: "" };
    const lines = describeDiff(diffInputs({ listing: "", raw: "" }, after));
    expect(lines.length).toBe(21);
    expect(lines.at(-1)).toBe("... and 5 more files");
  });
  test("long raw values are cut", () => {
    expect(showRaw("short")).toBe('"short"');
    expect(showRaw("z".repeat(61))).toBe(`"${"z".repeat(60)}"... (61 bytes)`);
  });
});

describe("splitSaved (the hash file keeps only the whole hash input)", () => {
  const listing = [line(A, "a"), line(A, "b")].join("\n");
  test.each([
    ["listing unchanged", listing + "old", { listing, raw: "new" }, { listing, raw: "old" }],
    ["raw unchanged", line(B, "a") + "same", { listing, raw: "same" }, { listing: line(B, "a"), raw: "same" }],
    ["no raw values", line(B, "a"), { listing, raw: "" }, { listing: line(B, "a"), raw: "" }],
    ["only raw values", "x\ny", { listing: "", raw: "z" }, { listing: "", raw: "x\ny" }],
  ] as const)("%s", (_, saved, current, expected) => {
    expect(splitSaved(saved, current)).toEqual(expected);
  });
});

describe("history file", () => {
  const rec = (n: number, outcome: HistoryRecord["outcome"] = "ran"): HistoryRecord => ({
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), outcome, hash: String(n).repeat(40).slice(0, 40), hashInput: line(A, `f${n}`) + `raw${n}`, listingLength: line(A, `f${n}`).length,
  });

  test("keeps the last two records, atomically, next to the hash file", () => {
    const dir = mkdtempSync(join(tmpdir(), "history-"));
    try {
      const path = historyPath(join(dir, "hash", "gen.hash"));
      expect(path).toBe(join(dir, "hash", "gen.history.json"));
      expect(readHistory(path)).toBeNull();
      noteSkip(path); // no history yet: nothing happens
      appendHistory(path, rec(1));
      appendHistory(path, rec(2));
      appendHistory(path, rec(3, "restored"));
      const h = readHistory(path)!;
      expect(h.records).toEqual([rec(2), rec(3, "restored")]);
      expect(h.lastSkip).toBeNull();
      const later = new Date(Date.UTC(2026, 0, 1, 0, 1, 0));
      utimesSync(path, later, later);
      expect(readHistory(path)!.lastSkip).toEqual(later);
      expect(JSON.parse(readFileSync(path, "utf8"))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("renders a first run and a change", () => {
    expect(renderExplain("gen", { records: [rec(1)], lastSkip: null })).toBe(
      `Task gen: only one recorded run, the first:\n  2026-01-01T00:00:01.000Z, ran (hash ${rec(1).hash})\n`,
    );
    const text = renderExplain("gen", { records: [rec(1), rec(2, "restored")], lastSkip: null });
    expect(text).toContain("  latest:   2026-01-01T00:00:02.000Z, restored");
    expect(text).toContain('removed file f1\n  added file f2\n  removed raw "raw1"\n  added raw "raw2"\n');
  });
});
