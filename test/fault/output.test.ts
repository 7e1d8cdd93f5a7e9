// Fault tests: output under load and in bad conditions (SPEC §3, §5). Parallel tasks flooding
// the top-level streams never lose, reorder or interleave lines; a reader that went away does
// not stop the build; a burst of requests on the request pipe is served whole and in order.
import { test, expect, afterEach } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EXE, Fault, CRASH, exitOf, inBothNestings } from "./helpers.ts";

let f: Fault | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

inBothNestings(() => {
  const LINES_SH = join(import.meta.dir, "fixtures", "lines.sh");
  const TASKS = 8;
  const OUT_LINES = 20_000;
  const ERR_LINES = 2_000;
  /** Payload length: with the prefix, each emitted line is about 110 bytes. */
  const LEN = 80;

  /**
   * Checks lines of numbered output: every line matches `re` (group 1 the task, group 2 the line
   * number), and each of `tasks` has the numbers 1..count, none missing, none out of order.
   * Returns the problems found (empty when all is well), at most a few of each kind.
   */
  function checkNumbered(lines: string[], re: RegExp, count: number, tasks: string[]): string[] {
    const problems: string[] = [];
    const last = new Map<string, number>();
    for (const [i, line] of lines.entries()) {
      const m = re.exec(line);
      if (!m) {
        if (problems.length < 10) problems.push(`line ${i + 1} is not intact: ${JSON.stringify(line.slice(0, 300))}`);
        continue;
      }
      const task = m[1]!;
      const n = Number(m[2]);
      const want = (last.get(task) ?? 0) + 1;
      if (n !== want && problems.length < 20) problems.push(`task ${task}: line ${n} where ${want} was expected (output line ${i + 1})`);
      last.set(task, n);
    }
    for (const t of tasks) if (last.get(t) !== count) problems.push(`task ${t}: last line ${last.get(t) ?? "none"}, expected ${count}`);
    const extra = [...last.keys()].filter((t) => !tasks.includes(t));
    if (extra.length > 0) problems.push(`unexpected tasks: ${extra.join(", ")}`);
    return problems;
  }

  /**
   * Where the flood test sends the top-level streams: regular files (a CI log), real pipes (each
   * read by `cat`: PIPE_BUF atomicity and back-pressure), or one pipe for both (`2>&1`, SPEC §2).
   */
  const SINKS = {
    files: `"$EXE" -n top bash -c "$SCRIPT" > "$ROOT/out.txt" 2> "$ROOT/err.txt"`,
    pipes: [
      `mkfifo "$ROOT/o.fifo" "$ROOT/e.fifo"`,
      `cat "$ROOT/o.fifo" > "$ROOT/out.txt" & c1=$!`,
      `cat "$ROOT/e.fifo" > "$ROOT/err.txt" & c2=$!`,
      `"$EXE" -n top bash -c "$SCRIPT" > "$ROOT/o.fifo" 2> "$ROOT/e.fifo"; rc=$?`,
      `wait $c1 $c2; exit $rc`,
    ].join("\n"),
    "one pipe for both": `"$EXE" -n top bash -c "$SCRIPT" 2>&1 | cat > "$ROOT/out.txt"; rc=\${PIPESTATUS[0]}; : > "$ROOT/err.txt"; exit $rc`,
  } as const;

  for (const [sink, wrapper] of Object.entries(SINKS)) {
    test(`${TASKS} parallel nested tasks x ${OUT_LINES} lines to ${sink}: nothing lost, interleaved or reordered`, async () => {
      f = new Fault("flood");
      const script = `for i in $(seq 1 ${TASKS}); do taskrunner -n t$i bash "$LINES_SH" t$i ${OUT_LINES} ${ERR_LINES} ${LEN} & done; wait`;
      const run = f.start(["bash", "-c", wrapper], { EXE, ROOT: f.box.root, SCRIPT: script, LINES_SH });
      expect(await exitOf(run, 20_000, "the flood build to finish")).toEqual({ code: 0, signal: null });
      expect(run.stdout.text + run.stderr.text).toBe("");
      let out = readFileSync(join(f.box.root, "out.txt"), "utf8");
      let err = readFileSync(join(f.box.root, "err.txt"), "utf8");
      expect(out.endsWith("\n")).toBe(true);
      if (sink === "one pipe for both") {
        // Split by stream word; a line mangled by interleaving fails the full check of its group.
        const lines = out.slice(0, -1).split("\n");
        out = lines.filter((l) => /^\[t\d\] stdout /.test(l)).map((l) => `${l}\n`).join("");
        err = lines.filter((l) => !/^\[t\d\] stdout /.test(l)).map((l) => `${l}\n`).join("");
      }
      expect(err.endsWith("\n")).toBe(true);

      const x = `x{${LEN}}`;
      const y = `y{${LEN}}`;
      const names = Array.from({ length: TASKS }, (_, i) => `t${i + 1}`);
      expect(checkNumbered(out.slice(0, -1).split("\n"), new RegExp(`^\\[(t\\d)\\] stdout \\| \\1 line (\\d{6}) ${x}$`), OUT_LINES, names)).toEqual([]);
      expect(checkNumbered(err.slice(0, -1).split("\n"), new RegExp(`^\\[(t\\d)\\] stderr \\| \\1 err (\\d{6}) ${y}$`), ERR_LINES, names)).toEqual([]);

      // Each task's log holds all its lines, in order (timestamps are off: `<stream> | <line>`).
      for (const t of names) {
        const logs = f.stateFiles(`builds/*/logs/${t}.log`);
        expect(logs.length).toBe(1);
        const log = readFileSync(logs[0]!, "utf8").split("\n");
        const outLog = log.filter((l) => l.startsWith("stdout | "));
        const errLog = log.filter((l) => l.startsWith("stderr | "));
        expect(checkNumbered(outLog, new RegExp(`^stdout \\| (${t}) line (\\d{6}) ${x}$`), OUT_LINES, [t])).toEqual([]);
        expect(checkNumbered(errLog, new RegExp(`^stderr \\| (${t}) err (\\d{6}) ${y}$`), ERR_LINES, [t])).toEqual([]);
      }
    }, 30_000);
  }

  /** Runs `script` under bash in the sandbox and returns its exit status and output. */
  async function runBash(fault: Fault, script: string, env: Record<string, string> = {}) {
    const s = fault.start(["bash", "-c", script], env);
    const status = await exitOf(s, 20_000, "the pipeline to finish");
    return { status, stdout: s.stdout.text, stderr: s.stderr.text };
  }

  test("stdout to a pipe nobody reads any more (| head -1): the task completes, no crash", async () => {
    f = new Fault("broken-pipe");
    f.write("in.txt", "foo\n");
    const task = "snapshot in.txt; seq 1 100000; echo tail-line >&2; touch done.marker";
    const r = await runBash(f, `taskrunner -n t bash -c '${task}' | head -1; echo "\${PIPESTATUS[0]}" > rc.txt`, { TASKRUNNER_LOG_INFO: "1" });
    expect(r.status).toEqual({ code: 0, signal: null });
    expect(r.stdout).toBe("[t] stdout | 1\n");
    // The runner's own exit status: the task's, 0, not death by SIGPIPE (141) or a crash.
    expect(readFileSync(f.path("rc.txt"), "utf8")).toBe("0\n");
    expect(existsSync(f.path("done.marker"))).toBe(true);
    expect(r.stderr).not.toMatch(CRASH);
    const stderr = r.stderr.split("\n");
    expect(stderr).toContain("[t] stderr | tail-line");
    expect(stderr).toContain("[t] info | success");
    // The log has every line, and the task counted as a success: its hash was saved.
    const log = readFileSync(f.stateFiles("builds/*/logs/t.log")[0]!, "utf8").split("\n");
    expect(log.filter((l) => l.startsWith("stdout | ")).length).toBe(100_000);
    expect(log).toContain("stdout | 100000");
    expect(existsSync(join(f.box.state, "hash", "t.hash"))).toBe(true);
  });

  test("stdout to a pipe nobody reads any more: nested runners carry on too", async () => {
    f = new Fault("broken-pipe-nested");
    const top = `taskrunner -n inner seq 1 100000; echo after-inner >&2; touch done.marker`;
    const r = await runBash(f, `taskrunner -n top bash -c '${top}' | head -1; echo "\${PIPESTATUS[0]}" > rc.txt`);
    expect(r.status).toEqual({ code: 0, signal: null });
    expect(r.stdout).toBe("[inner] stdout | 1\n");
    expect(readFileSync(f.path("rc.txt"), "utf8")).toBe("0\n");
    expect(existsSync(f.path("done.marker"))).toBe(true);
    expect(r.stderr).not.toMatch(CRASH);
    expect(r.stderr.split("\n")).toContain("[top] stderr | after-inner");
    const inner = f.stateFiles("builds/*/results/inner");
    expect(inner.length).toBe(1);
    expect(readFileSync(inner[0]!, "utf8").trim()).toBe("0");
  });

  test("request pipe: 1,000 debug requests in a burst all reach the log, in order", async () => {
    f = new Fault("debug-burst");
    // The first 500 leave in one printf (large writes split across pipe buffers), the rest one
    // write each; the task exits right after the last one.
    const task = [
      `printf '["debug","bulk %04d"]\\n' $(seq 1 500) >&$_taskrunner_request_pipe`,
      `for i in $(seq 501 1000); do printf '["debug","single %04d"]\\n' $i >&$_taskrunner_request_pipe; done`,
    ].join("\n");
    const r = f.runner(["-n", "t", "bash", "-c", task], { TASKRUNNER_DEBUG: "1" });
    expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
    const want = Array.from({ length: 1000 }, (_, i) => `${i < 500 ? "bulk" : "single"} ${String(i + 1).padStart(4, "0")}`);
    const log = readFileSync(f.stateFiles("builds/*/logs/t.log")[0]!, "utf8").split("\n");
    expect(log.filter((l) => /^debug \| (bulk|single) /.test(l))).toEqual(want.map((w) => `debug | ${w}`));
    // TASKRUNNER_DEBUG=1 shows them on stderr too, in the same order.
    expect(r.stderr.lines().filter((l) => /^\[t\] debug \| (bulk|single) /.test(l))).toEqual(want.map((w) => `[t] debug | ${w}`));
    expect(r.stderr.text).not.toMatch(CRASH);
  });
});
