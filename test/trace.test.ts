// Build traces end to end: a build with parallel and nested tasks writes trace.json whose spans
// nest as the processes did, and `--trace` renders a page whose bars a real browser draws.
import { test, expect } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXE, makeSandbox } from "./helpers/env.ts";

interface Ev {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: Record<string, unknown>;
}

const SCRIPT = `
echo x > input.txt
git add input.txt
taskrunner -n a bash -c 'snapshot input.txt; sleep 0.4; taskrunner -n inner bash -c "sleep 0.1"' &
taskrunner -n b bash -c 'sleep 0.4' &
wait
`;

function runBuild() {
  const box = makeSandbox("taskrunner-trace-");
  Bun.spawnSync(["git", "init", "-q"], { cwd: box.work, env: box.env });
  writeFileSync(join(box.work, "build.sh"), SCRIPT);
  const run = Bun.spawnSync([EXE, "-n", "top", "bash", "build.sh"], { cwd: box.work, env: box.env });
  expect(run.exitCode).toBe(0);
  const builds = readdirSync(join(box.state, "builds"));
  expect(builds.length).toBe(1);
  return { box, buildDir: join(box.state, "builds", builds[0]!) };
}

/** The complete span named `span` of the track whose thread name is `task`. */
function span(events: Ev[], task: string, name: string): Ev {
  const tid = events.find((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === task)?.tid;
  expect(tid).toBeDefined();
  const found = events.find((e) => e.ph === "X" && e.tid === tid && e.name === name);
  if (found === undefined) throw new Error(`no span ${name} on the track of ${task}`);
  return found;
}

const within = (inner: Ev, outer: Ev) => inner.ts >= outer.ts && inner.ts + inner.dur! <= outer.ts + outer.dur!;

test("trace: nested spans lie within their parent's run, parallel tasks overlap, events are complete", () => {
  const { box, buildDir } = runBuild();
  try {
    const doc = JSON.parse(readFileSync(join(buildDir, "trace.json"), "utf8")) as { traceEvents: Ev[] };
    const events = doc.traceEvents;
    for (const e of events) {
      expect(typeof e.name).toBe("string");
      expect(["X", "M"]).toContain(e.ph);
      expect(Number.isInteger(e.pid)).toBe(true);
      expect(Number.isInteger(e.tid)).toBe(true);
      expect(Number.isInteger(e.ts)).toBe(true);
      if (e.ph === "X") expect(Number.isInteger(e.dur) && e.dur! >= 0).toBe(true);
    }
    // One track per task invocation.
    const tracks = events.filter((e) => e.name === "thread_name").map((e) => e.args?.name);
    expect(tracks.sort()).toEqual(["a", "b", "inner", "top"]);
    // Nested: a and b ran inside top's task, inner inside a's.
    for (const child of ["a", "b"]) expect(within(span(events, child, `task ${child}`), span(events, "top", "run"))).toBe(true);
    expect(within(span(events, "inner", "task inner"), span(events, "a", "run"))).toBe(true);
    // Each task's phases lie within its own invocation.
    for (const [task, phase] of [["a", "lock wait"], ["a", "run"], ["a", "decide"], ["a", "hashing"], ["inner", "run"], ["top", "lock wait"]] as const) {
      expect(within(span(events, task, phase), span(events, task, `task ${task}`))).toBe(true);
    }
    expect(within(span(events, "a", "hashing"), span(events, "a", "decide"))).toBe(true);
    // Parallel: a's and b's runs overlap.
    const a = span(events, "a", "run");
    const b = span(events, "b", "run");
    expect(a.ts < b.ts + b.dur! && b.ts < a.ts + a.dur!).toBe(true);
  } finally {
    rmSync(box.root, { recursive: true, force: true });
  }
});

test("trace: --trace renders the timeline, and headless Chromium draws a bar per span", () => {
  const { box, buildDir } = runBuild();
  try {
    const render = Bun.spawnSync([EXE, "--trace"], { cwd: box.work, env: box.env });
    expect(render.stderr.toString()).toBe("");
    const page = render.stdout.toString().trim();
    expect(page).toBe(join(buildDir, "trace.html"));
    const html = readFileSync(page, "utf8");
    // Self-contained: nothing is fetched.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    // The build can also be named.
    const named = Bun.spawnSync([EXE, "--trace", buildDir.split("/").pop()!], { cwd: box.work, env: box.env });
    expect(named.stdout.toString().trim()).toBe(page);

    const chromium = "/usr/bin/chromium";
    if (!existsSync(chromium)) {
      console.log("trace: chromium is not installed (apt-get install chromium); the browser check did not run");
      return;
    }
    const profile = mkdtempSync(join(tmpdir(), "taskrunner-chromium-"));
    try {
      const browser = Bun.spawnSync(
        [
          chromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          `--user-data-dir=${profile}`,
          "--dump-dom",
          `file://${page}`,
        ],
        { timeout: 60_000 },
      );
      const dom = browser.stdout.toString();
      const bars = [...dom.matchAll(/<div class="bar" data-task="([^"]+)" data-span="([^"]+)"[^>]*style="([^"]*)"/g)];
      const drawn = new Set(bars.map((m) => `${m[1]}: ${m[2]}`));
      for (const want of ["top: task top", "top: run", "a: run", "a: hashing", "b: run", "inner: task inner", "inner: lock wait"]) {
        expect(drawn).toContain(want);
      }
      for (const m of bars) expect(m[3]).toMatch(/width: [0-9.e-]+%/);
      // The parent's whole invocation spans the timeline.
      expect(bars.find((m) => m[2] === "task top")?.[3]).toMatch(/width: 100%/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  } finally {
    rmSync(box.root, { recursive: true, force: true });
  }
});

test("trace: cache fill and restore are spans of the task, inside decide and finish", () => {
  const box = makeSandbox("taskrunner-trace-");
  try {
    const env = { ...box.env, TASKRUNNER_LOCAL_CACHE_DIR: join(box.root, "cache") };
    Bun.spawnSync(["git", "init", "-q"], { cwd: box.work, env });
    writeFileSync(join(box.work, "input.txt"), "x\n");
    const task = [EXE, "-n", "c", "bash", "-c", "snapshot input.txt --outputs out.txt; echo built > out.txt"];
    const traceOf = (): Ev[] => {
      const builds = readdirSync(join(box.state, "builds")).sort();
      return (JSON.parse(readFileSync(join(box.state, "builds", builds[builds.length - 1]!, "trace.json"), "utf8")) as { traceEvents: Ev[] }).traceEvents;
    };
    expect(Bun.spawnSync(task, { cwd: box.work, env }).exitCode).toBe(0);
    const first = traceOf();
    expect(within(span(first, "c", "cache fill (local)"), span(first, "c", "finish"))).toBe(true);
    rmSync(join(box.state, "hash"), { recursive: true });
    rmSync(join(box.work, "out.txt"));
    expect(Bun.spawnSync(task, { cwd: box.work, env }).exitCode).toBe(0);
    const second = traceOf();
    expect(within(span(second, "c", "cache restore (local)"), span(second, "c", "decide"))).toBe(true);
    expect(readFileSync(join(box.work, "out.txt"), "utf8")).toBe("built\n");
  } finally {
    rmSync(box.root, { recursive: true, force: true });
  }
});
