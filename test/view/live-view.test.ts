// Screen tests of the live view: a scripted build drives a real LiveView whose terminal output
// goes into a headless xterm; the tests read the exact screen, mid-build and at the end.
import { test, expect } from "bun:test";
import { FakeTerminal } from "./harness.ts";
import { nameColorIndex, NAME_PALETTE } from "../../src/view/colors.ts";
import { RENDER_INTERVAL_MS } from "../../src/view/live-view.ts";

/** The palette entry (0-15) of a name's color, as the screen reports it. */
function paletteOf(name: string): number {
  const code = Number(/^\x1b\[(\d+)m/.exec(NAME_PALETTE[nameColorIndex(name)]!("x"))![1]);
  return code >= 90 ? code - 90 + 8 : code - 30;
}

/**
 * The example build's shape: a top level, two parallel tasks with lines in between, one that
 * runs after them; `until` stops it half-way for a mid-build screen.
 */
function scriptedBuild(t: FakeTerminal, until: "parallel" | "end"): void {
  t.view.taskStarted("1", "toplevel", "/s/logs/toplevel.log");
  t.line("toplevel", "stdout", "starting the build");
  t.advance(150);
  t.view.taskStarted("2", "generate", "/s/logs/generate.log");
  t.view.taskStarted("3", "lint", "/s/logs/lint.log");
  t.advance(40);
  t.line("generate", "stdout", "generating from schema");
  t.line("lint", "stdout", "linting 3 files");
  t.advance(700);
  t.line("lint", "stderr", "src/a.ts:3: unused variable");
  t.view.taskEnded("3", "ran", "/s/logs/lint.log");
  t.advance(1_200);
  if (until === "parallel") return;
  t.line("generate", "warn", "schema.txt has no version");
  t.view.taskEnded("2", "restored", "/s/logs/generate.log");
  t.view.taskStarted("4", "package", "/s/logs/package.log");
  t.advance(300);
  t.line("package", "stdout", "packaging");
  t.line("package", "stdout", "wrote package.txt (12 lines)");
  t.advance(100);
  t.view.taskEnded("4", "ran", "/s/logs/package.log");
  t.view.taskStarted("5", "docs", "/s/logs/docs.log");
  t.view.taskEnded("5", "skipped", "/s/logs/docs.log");
  t.view.taskEnded("1", "ran", "/s/logs/toplevel.log");
  t.advance(50);
  t.view.close(true);
}

const taskLines = [
  "[toplevel] stdout | starting the build",
  "[generate] stdout | generating from schema",
  "[lint] stdout | linting 3 files",
  "[lint] stderr | src/a.ts:3: unused variable",
  "[generate] warn | schema.txt has no version",
  "[package] stdout | packaging",
  "[package] stdout | wrote package.txt (12 lines)",
];

test("mid-build: the task lines so far, then the running tasks and the counts", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  scriptedBuild(t, "parallel");
  expect(await t.lines()).toEqual([
    ...taskLines.slice(0, 4),
    // Rendered at most 100 ms ago (on the 2.0 s tick), so generate shows 1.8 s, not 1.9.
    "  ⠋ toplevel 2.0s",
    "  ⠇ generate 1.8s",
    "  2.0s  2 running, 1 done",
  ]);
  // The cursor waits at column 0 under the area, where the next task line goes.
  expect(t.screen.cursor()).toEqual({ x: 0, y: 7 });
});

test("the end: every task line once and intact, the summary, no status area left", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  scriptedBuild(t, "end");
  expect(await t.lines()).toEqual([...taskLines, "5 tasks in 2.5s: 3 ran, 1 skipped, 1 restored, 0 failed"]);
  // Nothing of the area anywhere, also not in the scrollback.
  expect(t.screen.allLines()).toEqual(await t.lines());
  // No timer left behind, no SIGWINCH handler left installed.
  expect(t.pendingTimers()).toBe(0);
  expect(t.resizeWatchers).toBe(0);
});

test("a failed build: the summary names each failed task and its log", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  t.view.taskStarted("1", "toplevel", "/s/logs/toplevel.log");
  t.view.taskStarted("2", "gen", "/s/logs/gen.log");
  t.line("gen", "stderr", "gen: syntax error");
  t.line("gen", "error", "Failed, exit code: 2");
  t.view.taskEnded("2", "failed", "/s/logs/gen.log");
  t.view.taskEnded("1", "failed", "/s/logs/toplevel.log");
  t.advance(1_000);
  t.view.close(false);
  expect(await t.lines()).toEqual([
    "[gen] stderr | gen: syntax error",
    "[gen] error | Failed, exit code: 2",
    "2 tasks in 1.0s: 0 ran, 0 skipped, 0 restored, 2 failed",
    "  failed: gen (log: /s/logs/gen.log)",
    "  failed: toplevel (log: /s/logs/toplevel.log)",
  ]);
});

test("colors on the screen: each prefix in its name's color, error red, warn yellow, timestamps dim", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  t.view.taskStarted("1", "gen", "/l");
  t.line("gen", "stdout", "plain text", "12:00:01 ");
  t.line("lint", "error", "bad", "12:00:02 ");
  t.line("lint", "warn", "meh", "12:00:03 ");
  t.advance(100);
  const screen = await t.sync();
  expect(screen.lines().slice(0, 3)).toEqual(["12:00:01 [gen] stdout | plain text", "12:00:02 [lint] error | bad", "12:00:03 [lint] warn | meh"]);
  expect(screen.cell(0, 0).dim).toBe(true);
  expect(screen.cell(8, 0).dim).toBe(false);
  for (const x of [9, 10, 13]) expect(screen.fg(x, 0)).toEqual({ palette: paletteOf("gen") });
  expect(screen.fg(15, 0)).toEqual("default");
  expect(screen.fg(9, 1)).toEqual({ palette: paletteOf("lint") });
  expect(screen.fg(16, 1)).toEqual({ palette: 1 });
  expect(screen.fg(16, 2)).toEqual({ palette: 3 });
  // The task's own text is the terminal's default color.
  expect(screen.fg(25, 0)).toEqual("default");
  // The area's line for gen: spinner and name in gen's color.
  expect(screen.lines()[3]).toBe("  ⠙ gen 0.1s");
  expect(screen.fg(2, 3)).toEqual({ palette: paletteOf("gen") });
  expect(screen.fg(4, 3)).toEqual({ palette: paletteOf("gen") });
  expect(paletteOf("gen")).not.toBe(paletteOf("lint"));
});

test("stderr not on the terminal: its lines go there plain, byte for byte as without the view", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24, stderrIsTerminal: false });
  t.view.taskStarted("1", "gen", "/l");
  t.line("gen", "stdout", "out");
  t.line("gen", "stderr", new Uint8Array([0x62, 0xff, 0x61, 0x64]));
  t.line("gen", "info", "msg", "12:00:00 ");
  t.advance(100);
  t.view.close(true);
  expect(Buffer.from(t.writes.filter((w) => w.fd === 2).flatMap((w) => [...w.bytes]))).toEqual(
    Buffer.concat([Buffer.from("[gen] stderr | b"), Buffer.from([0xff]), Buffer.from("ad\n12:00:00 [gen] info | msg\n")]),
  );
  expect(await t.lines()).toEqual(["[gen] stdout | out", "1 task in 0.1s: 0 ran, 0 skipped, 0 restored, 0 failed, 1 unfinished", "  unfinished: gen (log: /l)"]);
});

test("quiet mode: no lines at all, only the area while it runs and the summary after", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  t.view.taskStarted("1", "toplevel", "/l/t");
  t.view.taskStarted("2", "gen", "/l/g");
  t.advance(1_000);
  expect(await t.lines()).toEqual(["  ⠋ toplevel 1.0s", "  ⠋ gen      1.0s", "  1.0s  2 running, 0 done"]);
  t.view.taskEnded("2", "skipped", "/l/g");
  t.view.taskEnded("1", "ran", "/l/t");
  t.view.close(true);
  expect(await t.lines()).toEqual(["2 tasks in 1.0s: 1 ran, 1 skipped, 0 restored, 0 failed"]);
});

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** The counts line in a write, if the write drew the area: one per rendering of the area's text. */
const countsIn = (bytes: Uint8Array) => /\d+ running, \d+ done[^\n]*\n/.exec(decode(bytes).replace(/\x1b\[[0-9;]*m/g, ""))?.[0] ?? null;

test("a burst of lines: one write per line, the area back once after the burst", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  t.view.taskStarted("1", "gen", "/l");
  t.advance(0);
  const before = t.writes.length;
  for (let i = 0; i < 500; i++) t.line("gen", "stdout", `line ${i}`);
  const burst = t.writes.slice(before);
  expect(burst.length).toBe(500);
  // The first erases the area; every one is a whole line; none draws the area.
  expect(decode(burst[0]!.bytes)).toBe("\r\x1b[2A\x1b[J" + decode(burst[1]!.bytes).replace("line 1", "line 0"));
  for (const w of burst) expect(countsIn(w.bytes)).toBeNull();
  t.advance(0);
  expect(t.writes.length).toBe(before + 501);
  expect(countsIn(t.writes.at(-1)!.bytes)).not.toBeNull();
  expect((await t.lines()).slice(-3)).toEqual(["[gen] stdout | line 499", "  ⠋ gen 0.0s", "  0.0s  1 running, 0 done"]);
});

test("the area's text is rendered at most every 100 ms, however many lines and task events come", () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  for (let ms = 0; ms < 1_000; ms += 5) {
    if (ms % 50 === 0) t.view.taskStarted(`id${ms}`, `task-${ms}`, "/l");
    if (ms % 50 === 25) t.view.taskEnded(`id${ms - 25}`, "ran", "/l");
    t.line("gen", "stdout", `at ${ms}`);
    t.advance(5);
  }
  const renders = new Set(t.writes.map((w) => countsIn(w.bytes)).filter((c) => c !== null));
  expect(renders.size).toBeGreaterThanOrEqual(9);
  expect(renders.size).toBeLessThanOrEqual(1_000 / RENDER_INTERVAL_MS + 1);
  // Yet the area is back after every line: each turn with a line ends with a paint.
  expect(t.writes.filter((w) => countsIn(w.bytes) !== null).length).toBeGreaterThanOrEqual(200);
});

test("every write to the terminal ends at the end of a line: the area is never drawn inside one", () => {
  const t = new FakeTerminal({ cols: 30, rows: 10 });
  scriptedBuild(t, "end");
  expect(t.writes.length).toBeGreaterThan(20);
  for (const w of t.writes) expect(w.bytes.at(-1)).toBe(10);
});

test("idle: nothing running and nothing new means no timer, so the view never wakes the process", () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  t.view.taskStarted("1", "gen", "/l");
  t.advance(250);
  expect(t.pendingTimers()).toBe(1);
  t.view.taskEnded("1", "skipped", "/l");
  t.advance(250);
  expect(t.pendingTimers()).toBe(0);
  const writes = t.writes.length;
  t.advance(5_000);
  expect(t.writes.length).toBe(writes);
});

test("close: idempotent, and a line after it is written plainly, with no area coming back", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  t.view.taskStarted("1", "gen", "/l");
  t.advance(100);
  t.view.close(true);
  t.view.close(false);
  t.line("gen", "stdout", "late");
  t.view.taskEnded("1", "ran", "/l");
  t.view.resize();
  t.advance(1_000);
  expect(await t.lines()).toEqual(["1 task in 0.1s: 0 ran, 0 skipped, 0 restored, 0 failed, 1 unfinished", "  unfinished: gen (log: /l)", "[gen] stdout | late"]);
  expect(t.pendingTimers()).toBe(0);
});

test("a screen too small for an area: lines and the summary only, and no empty writes", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 1 });
  t.view.taskStarted("1", "gen", "/l");
  t.line("gen", "stdout", "one");
  t.advance(500);
  t.view.taskEnded("1", "ran", "/l");
  t.view.close(true);
  await t.sync();
  expect(t.screen.allLines()).toEqual(["[gen] stdout | one", "1 task in 0.5s: 1 ran, 0 skipped, 0 restored, 0 failed"]);
  for (const w of t.writes) expect(w.bytes.length).toBeGreaterThan(0);
});
