// The status area's lines for 0, 1 and many running tasks, the `+K more` cap at a third of the
// screen, narrow terminals; and the durations they show.
import { test, expect } from "bun:test";
import { Progress, formatDuration } from "../../src/view/progress.ts";
import { statusLines, areaBudget } from "../../src/view/status-area.ts";
import { displayWidth } from "../../src/view/width.ts";
import { nameColor } from "../../src/view/colors.ts";

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const T0 = 1_700_000_000_000;

/** A build with `n` tasks running, task i started i*200 ms after the build. */
function build(n: number): Progress {
  const p = new Progress(T0);
  for (let i = 0; i < n; i++) p.start(`id${i}`, `task-${i}`, `/logs/task-${i}.log`, T0 + i * 200);
  return p;
}

test.each([
  [0, "0.0s"], [99, "0.0s"], [100, "0.1s"], [3_250, "3.2s"], [59_999, "59.9s"], [60_000, "1m00s"],
  [65_400, "1m05s"], [3_599_999, "59m59s"], [3_600_000, "1h00m"], [7_380_000, "2h03m"], [-5, "0.0s"],
])("duration %p ms is %p", (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

test.each([[24, 8], [30, 10], [10, 3], [6, 2], [3, 1], [2, 1], [1, 0]])("a %p-row screen gives the area %p rows", (rows, budget) => {
  expect(areaBudget(rows)).toBe(budget);
});

test("no task yet: only the counts", () => {
  expect(statusLines(new Progress(T0), { columns: 80, rows: 24 }, T0 + 50).map(strip)).toEqual(["  0.0s  0 running, 0 done"]);
});

test("one task: spinner, name, its time; then the counts", () => {
  const p = new Progress(T0);
  p.start("1", "gen", "/logs/gen.log", T0 + 100);
  expect(statusLines(p, { columns: 80, rows: 24 }, T0 + 3_300).map(strip)).toEqual(["  ⠹ gen 3.2s", "  3.3s  1 running, 0 done"]);
});

test("many tasks: names padded, times aligned, oldest first, `+K more` past a third of the screen", () => {
  const p = build(10);
  p.end("id3", "skipped", "/logs/task-3.log");
  p.end("id4", "failed", "/logs/task-4.log");
  p.end("id5", "restored", "/logs/task-5.log");
  p.end("id6", "ran", "/logs/task-6.log");
  p.start("id10", "a-much-longer-name", "/logs/x.log", T0 + 9_000);
  expect(statusLines(p, { columns: 80, rows: 24 }, T0 + 12_000).map(strip)).toEqual([
    "  ⠋ task-0             12.0s",
    "  ⠇ task-1             11.8s",
    "  ⠦ task-2             11.6s",
    "  ⠦ task-7             10.6s",
    "  ⠼ task-8             10.4s",
    "  ⠹ task-9             10.2s",
    "  ⠋ a-much-longer-name  3.0s",
    "  12.0s  7 running, 4 done (1 skipped, 1 restored), 1 failed",
  ]);
  expect(statusLines(p, { columns: 80, rows: 12 }, T0 + 12_000).map(strip)).toEqual([
    "  ⠋ task-0 12.0s",
    "  ⠇ task-1 11.8s",
    "  +5 more",
    "  12.0s  7 running, 4 done (1 skipped, 1 restored), 1 failed",
  ]);
  // Two rows: the counts only (a `+7 more` alone would say what the counts say).
  expect(statusLines(p, { columns: 80, rows: 6 }, T0 + 12_000).map(strip)).toEqual(["  12.0s  7 running, 4 done (1 skipped, 1 restored), 1 failed"]);
  // A one-row screen has no room for an area.
  expect(statusLines(p, { columns: 80, rows: 1 }, T0 + 12_000)).toEqual([]);
});

test("a narrow terminal: long names are cut with `...`, times stay, every line fits", () => {
  const p = new Progress(T0);
  p.start("1", "generate-protobuf-bindings", "/l", T0);
  p.start("2", "漢字のタスク名前", "/l", T0 + 1_000);
  const lines = statusLines(p, { columns: 24, rows: 24 }, T0 + 2_500);
  expect(lines.map(strip)).toEqual(["  ⠴ generate-pro... 2.5s", "  ⠴ 漢字のタスク... 1.5s", "  2.5s  2 running, 0 don"]);
  for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(24);
  const tiny = statusLines(p, { columns: 10, rows: 24 }, T0 + 2_500);
  // One cell for names: a wide first character does not fit at all.
  expect(tiny.map(strip)).toEqual(["  ⠴ g 2.5s", "  ⠴   1.5s", "  2.5s  2 "]);
  for (const line of tiny) expect(displayWidth(line)).toBeLessThanOrEqual(10);
});

test("colors: the spinner and name in the task's color, times dim, failures red", () => {
  const p = new Progress(T0);
  p.start("1", "gen", "/l", T0);
  p.end("0", "failed", "/l/x.log");
  const color = nameColor("gen");
  expect(statusLines(p, { columns: 80, rows: 24 }, T0 + 1_000)).toEqual([
    `  ${color("⠋")} ${color("gen")} \x1b[2m1.0s\x1b[22m`,
    "  \x1b[2m1.0s\x1b[22m  1 running, 1 done, \x1b[31m1 failed\x1b[39m",
  ]);
});

test("a second run of one name (another id) is a task of its own", () => {
  const p = new Progress(T0);
  p.start("a", "lint", "/l/1", T0);
  p.start("b", "lint", "/l/2", T0 + 500);
  expect(statusLines(p, { columns: 80, rows: 24 }, T0 + 1_000).map(strip)).toEqual(["  ⠋ lint 1.0s", "  ⠴ lint 0.5s", "  1.0s  2 running, 0 done"]);
  p.end("a", "ran", "/l/1");
  expect(statusLines(p, { columns: 80, rows: 24 }, T0 + 1_000).map(strip)).toEqual(["  ⠴ lint 0.5s", "  1.0s  1 running, 1 done"]);
});
