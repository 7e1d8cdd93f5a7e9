// The early snapshot decision starts no bash when its reply ends the task: counted with strace,
// every program the runner and its tasks start. (The golden cases show the output is the same
// with it off; this shows it is on.) Needs strace; .ci/run installs it.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXE, makeSandbox } from "./helpers/env.ts";

const STRACE = Bun.which("strace");
// Under qemu (the arm64 run) strace would count the emulator's own calls.
const usable = STRACE !== null && (process.env.TASKRUNNER_TEST_EXE ?? "") === "";

/** Runs `command` under strace in a fresh build; the exit code and the programs started, by name. */
function started(box: ReturnType<typeof makeSandbox>, command: string[], env: Record<string, string> = {}): { code: number; programs: string[] } {
  const log = join(box.root, "execve.log");
  const r = Bun.spawnSync([STRACE!, "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", log, ...command], { cwd: box.work, env: { ...box.env, ...env }, stdout: "ignore", stderr: "ignore" });
  const programs = readFileSync(log, "utf8")
    .split("\n")
    .map((l) => /execve\("([^"]*)".* = 0$/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.split("/").pop()!);
  return { code: r.exitCode ?? -1, programs };
}

const bashes = (programs: string[]) => programs.filter((p) => p === "bash").length;

describe.skipIf(!usable)("early snapshot: no bash for a task whose reply ends it", () => {
  const box = makeSandbox("early-snapshot-");
  Bun.spawnSync(["git", "init", "-q"], { cwd: box.work, env: box.env });
  writeFileSync(join(box.work, "input.txt"), "foo\n");
  writeFileSync(join(box.work, "task.sh"), 'set -e\nsnapshot input.txt "$1"\necho built\n');
  const task = [EXE, "-n", "t", "bash", "task.sh", "input.txt"];

  test("a top-level task: bash on its first run, none when skipped, one again with the setting off", () => {
    expect(bashes(started(box, task).programs)).toBe(1);
    const skipped = started(box, task);
    expect(skipped).toEqual({ code: 0, programs: expect.any(Array) });
    expect(bashes(skipped.programs)).toBe(0);
    expect(bashes(started(box, task, { TASKRUNNER_DISABLE_EARLY_SNAPSHOT: "1" }).programs)).toBe(1);
  });

  test("past the argument room every stack size leaves (128 KiB), bash starts: it might not have", () => {
    const vars = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`BIG${i}`, "x".repeat(7 * 1024)]));
    const within = started(box, task, vars(10));
    expect(within.code).toBe(0);
    expect(bashes(within.programs)).toBe(0);
    const past = started(box, task, vars(20));
    expect(past.code).toBe(0);
    expect(bashes(past.programs)).toBe(1);
  });

  test("a snapshot error (exit 1) starts no bash either", () => {
    const r = started(box, [EXE, "-n", "bad", "bash", "-c", "snapshot --no-such-option"]);
    expect(r.code).toBe(1);
    expect(bashes(r.programs)).toBe(0);
  });

  test("served nested tasks: only the top level's bash and the tasks that run", () => {
    const script = "taskrunner -n n1 bash task.sh input.txt; taskrunner -n n2 bash -c 'snapshot input.txt'";
    started(box, [EXE, "-n", "top", "bash", "-c", script]);
    const second = started(box, [EXE, "-n", "top", "bash", "-c", script]);
    expect(second.code).toBe(0);
    // One runner, one bash (the top level's): both nested tasks were skipped without starting one.
    expect(second.programs.filter((p) => p === "taskrunner").length).toBe(1);
    expect(bashes(second.programs)).toBe(1);
  });

  test("a task that goes on starts its bash once, and its call is decided once", () => {
    writeFileSync(join(box.work, "input.txt"), "changed\n");
    const r = Bun.spawnSync(task, { cwd: box.work, env: box.env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toBe("[t] stdout | built\n");
    const latest = readdirSync(join(box.state, "builds")).sort().pop()!;
    const log = readFileSync(join(box.state, "builds", latest, "logs", "t.log"), "utf8");
    expect(log.match(/Inputs changed, running task/g)?.length).toBe(1);
  });
});
