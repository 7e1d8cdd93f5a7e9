// Fault tests: locks (SPEC §4). One name runs at most once at a time across builds and
// processes; the kernel frees the lock of a SIGKILLed runner; waiting for a lock can be
// interrupted; different names run in parallel.
import { test, expect, afterEach } from "bun:test";
import { existsSync } from "node:fs";
import { Fault, exitOf, isAlive, waitForPidFile, withTimeout, type Started, inBothNestings } from "./helpers.ts";

let f: Fault | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

inBothNestings(() => {
  /** How long a waiting runner gets to (wrongly) start its task; nothing signals "not started". */
  const NOT_STARTED_MS = 300;

  /** Starts runner A holding the lock of `t` (its task blocks on `go.fifo`) and waits until its task runs. */
  async function startHolder(fault: Fault): Promise<{ a: Started; aTask: number }> {
    const mk = Bun.spawnSync(["mkfifo", fault.path("go.fifo")]);
    if (mk.exitCode !== 0) throw new Error(`mkfifo failed: ${mk.stderr}`);
    const a = fault.runner(["-n", "t", "bash", "-c", "echo $$ > a.pid; read x < go.fifo; echo a-done"]);
    const aTask = await waitForPidFile(fault.path("a.pid"), 10_000);
    return { a, aTask };
  }

  /** Starts runner B, a separate top-level invocation of the same name, and shows it waits. */
  async function startWaiter(fault: Fault, a: Started): Promise<Started> {
    const b = fault.runner(["-n", "t", "bash", "-c", "touch b.marker; echo b-ran"]);
    await Bun.sleep(NOT_STARTED_MS);
    expect(existsSync(fault.path("b.marker"))).toBe(false);
    expect(isAlive(b.pid)).toBe(true);
    expect(isAlive(a.pid)).toBe(true);
    return b;
  }

  test("SIGKILL of the runner holding the lock: the waiting runner proceeds", async () => {
    f = new Fault("lock-sigkill");
    const { a } = await startHolder(f);
    const b = await startWaiter(f, a);

    process.kill(a.pid, "SIGKILL");
    // A's task lives on (orphaned, it holds A's output open): drain = false.
    expect(await exitOf(a, 5000, "runner A to die", false)).toEqual({ code: null, signal: "SIGKILL" });
    expect(await exitOf(b, 10_000, "runner B to take the freed lock and finish")).toEqual({ code: 0, signal: null });
    expect(existsSync(f.path("b.marker"))).toBe(true);
    expect(b.stdout.lines()).toEqual(["[t] stdout | b-ran"]);
    // A's task is orphaned (nothing could pass SIGKILL on); cleanup() kills it.
  });

  test("waiting for a lock is interruptible: SIGINT to the waiter exits 130, the holder carries on", async () => {
    f = new Fault("lock-sigint");
    const { a, aTask } = await startHolder(f);
    const b = await startWaiter(f, a);

    const t0 = Date.now();
    process.kill(b.pid, "SIGINT");
    expect(await exitOf(b, 3000, "runner B to exit on SIGINT while waiting for the lock")).toEqual({ code: 130, signal: null });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(existsSync(f.path("b.marker"))).toBe(false);
    expect(isAlive(a.pid)).toBe(true);
    expect(isAlive(aTask)).toBe(true);

    // A is unaffected: let its task go on, and it finishes normally.
    const go = Bun.spawn(["bash", "-c", "echo go > go.fifo"], { cwd: f.box.work, env: f.box.env });
    await withTimeout(go.exited, 5000, "writing to go.fifo");
    expect(await exitOf(a, 10_000, "runner A to finish")).toEqual({ code: 0, signal: null });
    expect(a.stdout.lines()).toEqual(["[t] stdout | a-done"]);
  });

  // Each task opens a fifo the other one opens too, in an order that completes only if both run
  // at the same time: a one-at-a-time lock would leave `a` blocked forever (a timeout here).
  const TASK_A = "echo a > fa.fifo; read x < fb.fifo; echo a-done";
  const TASK_B = "read x < fa.fifo; echo b > fb.fifo; echo b-done";

  function makeFifos(fault: Fault): void {
    const mk = Bun.spawnSync(["mkfifo", fault.path("fa.fifo"), fault.path("fb.fifo")]);
    if (mk.exitCode !== 0) throw new Error(`mkfifo failed: ${mk.stderr}`);
  }

  test("locks are per name: two names run at once (separate builds)", async () => {
    f = new Fault("lock-per-name");
    makeFifos(f);
    const a = f.runner(["-n", "a", "bash", "-c", TASK_A]);
    const b = f.runner(["-n", "b", "bash", "-c", TASK_B]);
    const [ea, eb] = await Promise.all([
      exitOf(a, 10_000, "task a (blocked: do different names share a lock?)"),
      exitOf(b, 10_000, "task b (blocked: do different names share a lock?)"),
    ]);
    expect(ea).toEqual({ code: 0, signal: null });
    expect(eb).toEqual({ code: 0, signal: null });
    expect(a.stdout.lines()).toEqual(["[a] stdout | a-done"]);
    expect(b.stdout.lines()).toEqual(["[b] stdout | b-done"]);
  });

  test("locks are per name: two parallel nested tasks of one build run at once", async () => {
    f = new Fault("lock-per-name-nested");
    makeFifos(f);
    const r = f.runner(["-n", "top", "bash", "-c", 'taskrunner -n a bash -c "$A" & taskrunner -n b bash -c "$B" & wait'], { A: TASK_A, B: TASK_B });
    expect(await exitOf(r, 10_000, "the build (blocked: do different names share a lock?)")).toEqual({ code: 0, signal: null });
    expect(r.stdout.lines().sort()).toEqual(["[a] stdout | a-done", "[b] stdout | b-done"]);
  });
});
