// The live view end to end: real builds through the compiled executable in a pseudo-terminal
// (test/helpers/pty.ts), their bytes played on a headless xterm (test/helpers/screen.ts). What
// the screen shows during and after a build, colors on the terminal and not in the logs, the
// settings and environments that keep the output plain, quiet mode, and tasks run by nested
// executables (which write to the build's descriptors, pipes into the view while it is on).
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeSandbox, type Sandbox } from "../helpers/env.ts";
import { playWithMarks, runInPty } from "../helpers/pty.ts";
import { Screen } from "../helpers/screen.ts";

let box: Sandbox | null = null;
afterEach(() => {
  if (box !== null) Bun.spawnSync(["rm", "-rf", box.root]);
  box = null;
});

const COLS = 80;
const ROWS = 24;

/** A sandbox with a committed repo holding `files`; the state directory and a clean environment. */
function repo(files: Record<string, string>): Sandbox {
  const b = makeSandbox("view-e2e-");
  for (const [name, text] of Object.entries(files)) Bun.write(join(b.work, name), text);
  const sh = (cmd: string) => Bun.spawnSync(["bash", "-c", cmd], { cwd: b.work, env: b.env });
  sh("git init -q && git add -A && git commit -qm init");
  return b;
}

/** Runs `script` as the top-level task `build` in a pty; returns the final screen and those at marks. */
async function build(b: Sandbox, script: string, env: Record<string, string> = {}, cols = COLS) {
  const result = await runInPty(["taskrunner", "-n", "build", "bash", "-c", script], { cols, rows: ROWS, cwd: b.work, env: { ...b.env, TERM: "xterm-256color", ...env } });
  expect({ timedOut: result.timedOut, scriptErrors: result.scriptErrors }).toEqual({ timedOut: false, scriptErrors: "" });
  const screen = new Screen({ cols, rows: ROWS });
  const marks: Record<string, string[]> = {};
  await playWithMarks(result.bytes, screen, (what) => {
    marks[what] = screen.logicalLines();
  });
  return { screen, marks, exitCode: result.exitCode, raw: result.bytes };
}

// Bash for a task: write a mark (helpers/pty.ts MARK) on the terminal, the top-level runner's
// stdout, between the view's writes; each of the view's writes is whole lines, and so is this.
// Double quotes only: it goes inside the single-quoted scripts of nested tasks.
const mark = (what: string) => `printf "\\033]7770;${what}\\007" > "$(readlink /proc/$TOP/fd/1)"`;

const EXAMPLE = {
  "schema.txt": "record user { name }\n",
  "src/main.txt": "fn main() {}\n",
  "src/util.txt": "fn util() {}\n",
  ".gitignore": "generated.txt\n",
};
const EXAMPLE_BUILD = [
  "snapshot schema.txt src",
  `taskrunner -n generate bash -c 'snapshot schema.txt --outputs generated.txt; echo "generating from schema"; tr a-z A-Z < schema.txt > generated.txt' &`,
  `taskrunner -n lint bash -c 'snapshot src; echo "linting 2 files"' &`,
  "wait",
  `taskrunner -n package bash -c 'snapshot schema.txt src; echo packaging'`,
].join("\n");

test("a build: every line once and intact, colored on the terminal, plain in the logs; the area gives way to the summary", async () => {
  box = repo(EXAMPLE);
  const first = await build(box, EXAMPLE_BUILD);
  expect(first.exitCode).toBe(0);
  const lines = first.screen.logicalLines();
  // Parallel tasks: generate and lint in either order.
  expect(lines.slice(0, 2).sort()).toEqual(["[generate] stdout | generating from schema", "[lint] stdout | linting 2 files"]);
  expect(lines.slice(2)).toEqual(["[package] stdout | packaging", expect.stringMatching(/^4 tasks in \d+\.\ds: 4 ran, 0 skipped, 0 restored, 0 failed$/)]);
  // The name is colored, the text after the prefix is the terminal's default.
  const row = first.screen.lines().findIndex((l) => l.startsWith("[package]"));
  expect(first.screen.fg(1, row)).not.toBe("default");
  expect(first.screen.fg("[package] stdout | ".length + 1, row)).toBe("default");
  for (const log of new Bun.Glob("builds/*/logs/*.log").scanSync({ cwd: box.state })) {
    expect(readFileSync(join(box.state, log), "latin1")).not.toContain("\x1b");
  }
  // Nothing changed: the top-level task is skipped, and the summary says so.
  const second = await build(box, EXAMPLE_BUILD);
  expect(second.screen.logicalLines()).toEqual([expect.stringMatching(/^1 task in \d+\.\ds: 0 ran, 1 skipped, 0 restored, 0 failed$/)]);
}, 30_000);

test("while a build runs, the area shows the running tasks and the counts; a failed build names its tasks and logs", async () => {
  box = repo({ "in.txt": "x\n" });
  // Three tasks start; once all have started and the area had time to be drawn (it is redrawn
  // every 100 ms), one of them marks the moment; then they end, one failing.
  const task = (name: string, code: number) =>
    `taskrunner -n ${name} bash -c 'echo ${name} started; touch ${name}.started; until [ -e a.started ] && [ -e b.started ] && [ -e c.started ]; do sleep 0.01; done; sleep 0.3; if [ ${name} = a ]; then ${mark("running")}; touch marked; fi; until [ -e marked ]; do sleep 0.01; done; exit ${code}' &`;
  const script = ["export TOP=$PPID", task("a", 0), task("b", 3), task("c", 0), "wait"].join("\n");
  const { marks, screen, exitCode } = await build(box, script);
  expect(exitCode).toBe(0);
  const running = marks.running!;
  expect(running.slice(0, 3).sort()).toEqual(["[a] stdout | a started", "[b] stdout | b started", "[c] stdout | c started"]);
  const area = running.slice(3);
  expect(area.map((l) => l.replace(/^  \S (\S+) +\d+\.\ds$/, "$1"))).toEqual(["build", expect.stringMatching(/^[abc]$/), expect.stringMatching(/^[abc]$/), expect.stringMatching(/^[abc]$/), expect.stringMatching(/4 running, 0 done$/)]);
  expect(area.slice(1, 4).sort()).toEqual([expect.stringMatching(/ a +\d/), expect.stringMatching(/ b +\d/), expect.stringMatching(/ c +\d/)]);
  const end = screen.logicalLines();
  expect(end.slice(3)).toEqual([expect.stringMatching(/^4 tasks in \d+\.\ds: 3 ran, 0 skipped, 0 restored, 1 failed$/), `  failed: b (log: ${box.state}/builds/${readdir(box.state)}/logs/b.log)`]);
}, 30_000);

function readdir(state: string): string {
  return [...new Bun.Glob("*").scanSync({ cwd: join(state, "builds"), onlyFiles: false })][0]!;
}

test("a 40-column terminal and a resize: task lines intact (the terminal wraps long ones), the area never wraps", async () => {
  box = repo({ "in.txt": "x\n" });
  const long = "a line much longer than forty columns, which the terminal wraps".replaceAll(" ", "_");
  const script = [
    "export TOP=$PPID",
    `taskrunner -n first-task-with-a-long-name bash -c 'echo ${long}; sleep 0.3; ${mark("wide")}'`,
    // The pty shrinks (SIGWINCH to the runner); the screen follows at the mark.
    `stty -F "$(readlink /proc/$TOP/fd/1)" cols 40; ${mark("resize;40;24")}`,
    `taskrunner -n second bash -c 'echo ${long}; sleep 0.3; ${mark("narrow")}'`,
  ].join("\n");
  const { screen, marks, exitCode } = await build(box, script);
  expect(exitCode).toBe(0);
  const lines = screen.logicalLines();
  expect(lines.slice(0, 2)).toEqual([`[first-task-with-a-long-name] stdout | ${long}`, `[second] stdout | ${long}`]);
  expect(lines[2]).toMatch(/^3 tasks in \d+\.\ds: 3 ran, 0 skipped, 0 restored, 0 failed$/);
  // Mid-build on 40 columns: the area's rows fit (cut, not wrapped).
  const narrow = marks.narrow!;
  for (const areaLine of narrow.slice(2)) expect(areaLine.length).toBeLessThanOrEqual(40);
  expect(narrow.slice(2)).toEqual([expect.stringMatching(/^  \S build +\d+\.\ds$/), expect.stringMatching(/^  \S second +\d+\.\ds$/), expect.stringMatching(/2 running, 1 done$/)]);
}, 30_000);

test("NO_COLOR, TERM=dumb, CI and TASKRUNNER_DISABLE_LIVE_VIEW each give the plain output", async () => {
  box = repo({ "in.txt": "x\n" });
  const script = "echo hello; taskrunner -n inner bash -c 'echo from inner >&2'";
  const plain: Record<string, string>[] = [{ NO_COLOR: "1" }, { TERM: "dumb" }, { CI: "true" }, { TASKRUNNER_DISABLE_LIVE_VIEW: "1" }];
  for (const env of plain) {
    const { raw, screen } = await build(box, script, env);
    expect(Buffer.from(raw).toString("latin1")).toBe("[build] stdout | hello\r\n[inner] stderr | from inner\r\n");
    expect(screen.logicalLines()).toEqual(["[build] stdout | hello", "[inner] stderr | from inner"]);
  }
}, 30_000);

test("quiet on a terminal: the area and the summary, and the whole output of a task that fails; a build with nothing to do, only its summary", async () => {
  box = repo({ "in.txt": "x\n" });
  const script = ["snapshot in.txt", "taskrunner -n ok bash -c 'snapshot in.txt; echo fine'", "taskrunner -n bad bash -c 'echo broken; exit 2' || true"].join("\n");
  const first = await build(box, script, { TASKRUNNER_QUIET: "1", TASKRUNNER_LOG_INFO: "1" });
  expect(first.screen.logicalLines()).toEqual(["[bad] stdout | broken", expect.stringMatching(/^3 tasks in \d+\.\ds: 2 ran, 0 skipped, 0 restored, 1 failed$/), expect.stringMatching(/^  failed: bad \(log: .*\/logs\/bad\.log\)$/)]);
  const noop = await build(box, script, { TASKRUNNER_QUIET: "1" });
  expect(noop.screen.logicalLines()).toEqual([expect.stringMatching(/^1 task in \d+\.\ds: 0 ran, 1 skipped, 0 restored, 0 failed$/)]);
}, 30_000);

test("tasks run by nested executables (sh -c, xargs) show their lines in the view and count in the summary", async () => {
  box = repo({ "in.txt": "x\n" });
  const script = [`sh -c 'taskrunner -n via-sh bash -c "echo from sh"'`, "echo word | xargs taskrunner -n via-xargs sh -c 'echo from xargs; exit 4' || true"].join("\n");
  const { screen } = await build(box, script);
  const lines = screen.logicalLines();
  expect(lines.slice(0, 2)).toEqual(["[via-sh] stdout | from sh", "[via-xargs] stdout | from xargs"]);
  expect(lines.slice(2)).toEqual([expect.stringMatching(/^3 tasks in \d+\.\ds: 2 ran, 0 skipped, 0 restored, 1 failed$/), expect.stringMatching(/^  failed: via-xargs \(log: .*\/logs\/via-xargs\.log\)$/)]);
  const row = screen.lines().findIndex((l) => l.startsWith("[via-sh]"));
  expect(screen.fg(1, row)).not.toBe("default");
}, 30_000);
