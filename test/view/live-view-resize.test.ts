// Screen tests of the live view on narrow and resized terminals: task lines may wrap (the
// terminal wraps them, as any long line), the status area never does, and after a resize the
// rows the terminal re-wrapped are all erased.
import { test, expect } from "bun:test";
import { FakeTerminal } from "./harness.ts";

test("a 40-column terminal: task lines wrap as the terminal wraps them, the area never; nothing garbled", async () => {
  const t = new FakeTerminal({ cols: 40, rows: 12 });
  t.view.taskStarted("1", "a-task-with-a-rather-long-name", "/l/1");
  t.view.taskStarted("2", "漢字の名前のタスク", "/l/2");
  const long = "this line is longer than forty columns, so the terminal wraps it";
  t.line("a-task-with-a-rather-long-name", "stdout", long);
  t.advance(2_000);
  const screen = await t.sync();
  expect(screen.lines()).toEqual([
    "[a-task-with-a-rather-long-name] stdout ",
    "| this line is longer than forty columns",
    ", so the terminal wraps it",
    "  ⠋ a-task-with-a-rather-long-name 2.0s",
    "  ⠋ 漢字の名前のタスク             2.0s",
    "  2.0s  2 running, 0 done",
  ]);
  expect(screen.wrappedRows()).toEqual([1, 2]);
  t.line("漢字の名前のタスク", "stdout", "short");
  t.view.taskEnded("1", "ran", "/l/1");
  t.view.taskEnded("2", "ran", "/l/2");
  t.view.close(true);
  await t.sync();
  expect(screen.logicalLines()).toEqual([
    `[a-task-with-a-rather-long-name] stdout | ${long}`,
    "[漢字の名前のタスク] stdout | short",
    "2 tasks in 2.0s: 2 ran, 0 skipped, 0 restored, 0 failed",
  ]);
});

/** A build with three running tasks whose area lines are about 60 columns wide. */
function wideBuild(t: FakeTerminal): void {
  t.view.taskStarted("1", "toplevel", "/l/1");
  t.view.taskStarted("2", "generate-the-protocol-buffer-bindings-for-all-services", "/l/2");
  t.view.taskStarted("3", "lint", "/l/3");
  t.line("lint", "stdout", "linting");
  t.advance(1_000);
}

test("resized narrower: the rows the terminal re-wrapped are all erased, the area redrawn to the new width", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  wideBuild(t);
  expect(await t.lines()).toEqual([
    "[lint] stdout | linting",
    "  ⠋ toplevel                                               1.0s",
    "  ⠋ generate-the-protocol-buffer-bindings-for-all-services 1.0s",
    "  ⠋ lint                                                   1.0s",
    "  1.0s  3 running, 0 done",
  ]);
  await t.resizeTerminal(40, 24);
  // xterm reflowed the 61-column rows into two rows each, as most terminals do.
  expect((await t.lines()).length).toBe(8);
  t.view.resize();
  expect(await t.lines()).toEqual([
    "[lint] stdout | linting",
    "  ⠋ toplevel                        1.0s",
    "  ⠋ generate-the-protocol-buffer... 1.0s",
    "  ⠋ lint                            1.0s",
    "  1.0s  3 running, 0 done",
  ]);
  expect(t.screen.wrappedRows()).toEqual([]);
  t.line("toplevel", "stdout", "after the resize");
  t.view.close(true);
  expect(await t.lines()).toEqual([
    "[lint] stdout | linting",
    "[toplevel] stdout | after the resize",
    "3 tasks in 1.0s: 0 ran, 0 skipped, 0 restored, 0 failed, 3 unfinished",
    "  unfinished: toplevel (log: /l/1)",
    "  unfinished: generate-the-protocol-buffer-bindings-for-all-services (log: /l/2)",
    "  unfinished: lint (log: /l/3)",
  ].flatMap((l) => (l.length > 40 ? [l.slice(0, 40), l.slice(40, 80), l.slice(80)].filter(Boolean) : [l])));
});

test("a line that comes after the terminal shrank but before SIGWINCH is handled still erases the whole area", async () => {
  const t = new FakeTerminal({ cols: 80, rows: 24 });
  wideBuild(t);
  await t.resizeTerminal(40, 24);
  t.line("lint", "stdout", "written before the view heard of the resize");
  t.advance(100);
  expect(await t.lines()).toEqual([
    "[lint] stdout | linting",
    "[lint] stdout | written before the view ",
    "heard of the resize",
    "  ⠙ toplevel                        1.1s",
    "  ⠙ generate-the-protocol-buffer... 1.1s",
    "  ⠙ lint                            1.1s",
    "  1.1s  3 running, 0 done",
  ]);
});

test("resized wider and taller: the area is redrawn at the new size, nothing left of the old one", async () => {
  const t = new FakeTerminal({ cols: 40, rows: 6 });
  wideBuild(t);
  // Six rows give the area two: one task does not fit with the counts, so only the counts show.
  expect(await t.lines()).toEqual(["[lint] stdout | linting", "  1.0s  3 running, 0 done"]);
  await t.resizeTerminal(100, 30);
  t.view.resize();
  expect(await t.lines()).toEqual([
    "[lint] stdout | linting",
    "  ⠋ toplevel                                               1.0s",
    "  ⠋ generate-the-protocol-buffer-bindings-for-all-services 1.0s",
    "  ⠋ lint                                                   1.0s",
    "  1.0s  3 running, 0 done",
  ]);
});
