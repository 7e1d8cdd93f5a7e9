// The summary that replaces the status area when the build ends.
import { test, expect } from "bun:test";
import { Progress } from "../../src/view/progress.ts";
import { summaryLines } from "../../src/view/summary.ts";

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const T0 = 1_700_000_000_000;

/** A build with `n` tasks started. */
function build(n: number): Progress {
  const p = new Progress(T0);
  for (let i = 0; i < n; i++) p.start(`id${i}`, `task-${i}`, `/logs/task-${i}.log`, T0);
  return p;
}

test("summary of a successful build: counts by result, green", () => {
  const p = build(12);
  for (let i = 0; i < 12; i++) p.end(`id${i}`, i < 3 ? "ran" : i < 11 ? "skipped" : "restored", `/logs/task-${i}.log`);
  const lines = summaryLines(p, T0 + 4_200, true);
  expect(lines.map(strip)).toEqual(["12 tasks in 4.2s: 3 ran, 8 skipped, 1 restored, 0 failed"]);
  expect(lines[0]!.startsWith("\x1b[32m")).toBe(true);
});

test("summary of a failed build: red, each failed task with its log, unfinished ones too", () => {
  const p = build(4);
  p.end("id0", "ran", "/logs/task-0.log");
  p.end("id1", "failed", "/logs/task-1.log");
  p.end("id2", "failed", "/logs/task-2.log");
  const lines = summaryLines(p, T0 + 61_000, false);
  expect(lines.map(strip)).toEqual([
    "4 tasks in 1m01s: 1 ran, 0 skipped, 0 restored, 2 failed, 1 unfinished",
    "  failed: task-1 (log: /logs/task-1.log)",
    "  failed: task-2 (log: /logs/task-2.log)",
    "  unfinished: task-3 (log: /logs/task-3.log)",
  ]);
  expect(lines[0]!.startsWith("\x1b[31m")).toBe(true);
});

test("summary: one task is `1 task`; a task that ended without a start is named by its id", () => {
  const p = new Progress(T0);
  p.end("lost-id", "failed", "/logs/lost.log");
  expect(summaryLines(p, T0 + 300, false).map(strip)).toEqual(["1 task in 0.3s: 0 ran, 0 skipped, 0 restored, 1 failed", "  failed: lost-id (log: /logs/lost.log)"]);
  expect(summaryLines(new Progress(T0), T0, true).map(strip)).toEqual(["0 tasks in 0.0s: 0 ran, 0 skipped, 0 restored, 0 failed"]);
});
