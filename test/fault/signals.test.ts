// Fault tests: cancellation (SPEC §5 "Cancellation"). SIGINT/SIGTERM to a runner reach the
// task's whole process group, the runner records a failure, saves no hash, releases the lock
// and exits 130/143; a second signal kills at once; nested runners stop with their parent.
// Real processes throughout: the compiled executable, bash, git, sleep.
import { test, expect, afterEach } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Fault, exitOf, isAlive, parentPid, waitFor, waitForPidFile, waitGone, inBothNestings, servedByTopLevel, CHANNEL_READY } from "./helpers.ts";
import { s3Env, startFaultyS3, type FaultyServer } from "../helpers/s3.ts";

let f: Fault | undefined;

/** Task t was cancelled: no hash saved, a non-zero result recorded for it in the build. */
function expectFailureWithoutHash(): void {
  expect(existsSync(join(f!.box.state, "hash", "t.hash"))).toBe(false);
  const results = f!.stateFiles("builds/*/results/t");
  expect(results.length).toBe(1);
  const recorded = readFileSync(results[0]!, "utf8").trim();
  expect(recorded).toMatch(/^\d+$/);
  expect(Number(recorded)).not.toBe(0);
}
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

inBothNestings(() => {
  const EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

  async function cancelMidTask(sig: "SIGINT" | "SIGTERM"): Promise<void> {
    f = new Fault(`cancel-${sig}`);
    f.write("in.txt", "foo\n");
    // `sleep 1000 &` is a background job: it ignores SIGINT, so only a sweep of the group ends it.
    const r = f.runner(
      ["-n", "t", "bash", "-c", "echo $$ > task.pid; snapshot in.txt; sleep 1000 & echo $! > grandchild.pid; echo started; wait"],
      { TASKRUNNER_LOG_INFO: "1" },
    );
    await r.stdout.waitForLine(/^\[t\] stdout \| started$/, 10_000);
    const task = await waitForPidFile(f.path("task.pid"), 1000);
    const grandchild = await waitForPidFile(f.path("grandchild.pid"), 1000);
    expect(isAlive(task)).toBe(true);
    expect(isAlive(grandchild)).toBe(true);

    process.kill(r.pid, sig);
    // drain = false: if the grandchild survived, it would hold the output open; that is asserted next.
    expect(await exitOf(r, 10_000, "the runner to exit", false)).toEqual({ code: EXIT[sig], signal: null });
    await waitGone(task, 3000, "the task's bash");
    await waitGone(grandchild, 3000, "the task's background job");

    expectFailureWithoutHash();

    // The lock is free again, and as no hash was saved, the same inputs run the task again.
    const again = f.runner(["-n", "t", "bash", "-c", "snapshot in.txt; echo ran-again"], { TASKRUNNER_LOG_INFO: "1" });
    expect(await exitOf(again, 10_000, "the second run (is the lock still held?)")).toEqual({ code: 0, signal: null });
    expect(again.stdout.lines()).toContain("[t] stdout | ran-again");
    expect(again.stderr.lines()).toContain("[t] info | Inputs changed, running task");
    expect(existsSync(join(f.box.state, "hash", "t.hash"))).toBe(true);
  }

  test("SIGTERM mid-task: group ended, failure recorded, no hash, lock released, exit 143", async () => {
    await cancelMidTask("SIGTERM");
  });

  test("SIGINT mid-task: group ended (background job too), failure recorded, no hash, lock released, exit 130", async () => {
    await cancelMidTask("SIGINT");
  });

  // SPEC §5: a cancelled task is a failure even if it ends with status 0, and the runner waits for
  // it to end (a task may clean up on SIGINT/SIGTERM).
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    test(`${sig} to a task that cleans up and exits 0: the runner waits, records a failure, saves no hash, exit ${EXIT[sig]}`, async () => {
      f = new Fault(`graceful-${sig}`);
      f.write("in.txt", "foo\n");
      const trap = `trap 'sleep 0.3; echo cleaned > cleaned.txt; echo cleaned-up; exit 0' ${sig.slice(3)}`;
      const r = f.runner(["-n", "t", "bash", "-c", `snapshot in.txt; ${trap}; echo started; sleep 1000 & wait`], { TASKRUNNER_LOG_INFO: "1" });
      await r.stdout.waitForLine(/^\[t\] stdout \| started$/, 10_000);

      process.kill(r.pid, sig);
      expect(await exitOf(r, 10_000)).toEqual({ code: EXIT[sig], signal: null });
      // The runner waited for the clean-up and passed on its output.
      expect(existsSync(f.path("cleaned.txt"))).toBe(true);
      expect(r.stdout.lines()).toEqual(["[t] stdout | started", "[t] stdout | cleaned-up"]);
      expect(r.stderr.lines()).not.toContain("[t] info | success");
      expectFailureWithoutHash();
    });
  }

  test("a second SIGTERM kills at once when the task ignores the first", async () => {
    f = new Fault("second-signal");
    // A reporter, started before the task ignores TERM (an ignored signal cannot be trapped again
    // by a child bash), prints `got-term` when the runner passes the first SIGTERM to the group.
    // The task's bash and its `sleep` ignore TERM (an ignored disposition survives exec).
    const script = [
      "echo $$ > task.pid",
      `bash -c 'trap "echo got-term; exit 0" TERM; echo reporter-ready; sleep 1000 & wait' &`,
      `trap "" TERM`,
      "sleep 1000 & echo $! > grandchild.pid",
      "echo started",
      "wait",
    ].join("\n");
    const r = f.runner(["-n", "t", "bash", "-c", script]);
    await r.stdout.waitForLine(/^\[t\] stdout \| started$/, 10_000);
    await r.stdout.waitForLine(/^\[t\] stdout \| reporter-ready$/, 10_000);
    const task = await waitForPidFile(f.path("task.pid"), 1000);
    const grandchild = await waitForPidFile(f.path("grandchild.pid"), 1000);

    process.kill(r.pid, "SIGTERM");
    await r.stdout.waitForLine(/^\[t\] stdout \| got-term$/, 5000, "got-term (the first SIGTERM reaching the task's group)");
    // No event marks "still running"; give a runner that wrongly exits on the first signal a
    // bounded moment to do so.
    await Bun.sleep(300);
    expect(isAlive(r.pid)).toBe(true);
    expect(isAlive(task)).toBe(true);
    expect(isAlive(grandchild)).toBe(true);

    const t0 = Date.now();
    process.kill(r.pid, "SIGTERM");
    expect(await exitOf(r, 3000, "the runner to exit on the second SIGTERM", false)).toEqual({ code: 143, signal: null });
    expect(Date.now() - t0).toBeLessThan(2000);
    await waitGone(task, 3000, "the task's bash (ignores TERM; the group must be killed)");
    await waitGone(grandchild, 3000, "the task's sleep (ignores TERM; the group must be killed)");

    // The runner is gone, so its lock is too.
    const again = f.runner(["-n", "t", "true"]);
    expect(await exitOf(again, 10_000, "a new run of t (is the lock still held?)")).toEqual({ code: 0, signal: null });
  });

  test("SIGINT to the top runner stops nested runners and their tasks; exit 130", async () => {
    f = new Fault("nested");
    const inner = "echo $$ > inner-task.pid; sleep 1000 & echo $! > inner-sleep.pid; echo started; wait";
    const r = f.runner(["-n", "top", "bash", "-c", `${CHANNEL_READY}; echo $$ > top-task.pid; taskrunner -n inner bash -c '${inner}'; echo after-inner`]);
    await r.stdout.waitForLine(/^\[inner\] stdout \| started$/, 10_000);
    const topTask = await waitForPidFile(f.path("top-task.pid"), 1000);
    const innerTask = await waitForPidFile(f.path("inner-task.pid"), 1000);
    const innerSleep = await waitForPidFile(f.path("inner-sleep.pid"), 1000);
    const innerRunner = parentPid(innerTask);
    if (servedByTopLevel()) {
      // One runner per build: the nested task is a child of the top-level runner itself.
      expect(innerRunner).toBe(r.pid);
    } else {
      expect(innerRunner).not.toBe(r.pid);
      expect(readFileSync(`/proc/${innerRunner}/cmdline`, "utf8").split("\0")).toContain("inner");
    }

    process.kill(r.pid, "SIGINT");
    expect(await exitOf(r, 10_000, "the top runner to exit", false)).toEqual({ code: 130, signal: null });
    await waitGone(innerRunner, 3000, "the inner runner");
    await waitGone(innerTask, 3000, "the inner task's bash");
    await waitGone(innerSleep, 3000, "the inner task's background sleep");
    await waitGone(topTask, 3000, "the top task's bash");
    expect(existsSync(join(f.box.state, "hash", "inner.hash"))).toBe(false);
  });

  // The decision may wait on the network; with the early decision no bash exists yet, without
  // it bash waits for the reply. Either way the signal ends the task at once, and none of its
  // commands run.
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    test(`${sig} while snapshot waits on a hung remote cache: the task's commands never run, failure recorded, exit ${EXIT[sig]}`, async () => {
      f = new Fault(`signal-deciding-${sig}`);
      const hung: FaultyServer = await startFaultyS3("hang");
      try {
        f.write("in.txt", "foo\n");
        const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: f!.box.work, env: f!.box.env });
        git("add", "in.txt");
        git("commit", "-qm", "in");
        const started = Date.now();
        const r = f.runner(["-n", "t", "bash", "-c", "snapshot in.txt --outputs out.txt; echo ran > ran.txt"], {
          ...s3Env(hung.endpoint, "b"),
          TASKRUNNER_REMOTE_CACHE_TIMEOUT: "60",
          TASKRUNNER_LOG_INFO: "1",
        });
        // The archive's GET has reached the store, which never answers.
        await waitFor(() => hung.requests.some((q) => q.startsWith("GET ")), 10_000, "the remote cache lookup", r.show);
        process.kill(r.pid, sig);
        expect(await exitOf(r, 10_000, "the runner to exit")).toEqual({ code: EXIT[sig], signal: null });
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(r.stderr.lines()).toContain(`[t] error | Cancelled by ${sig}`);
        expect(existsSync(f.path("ran.txt"))).toBe(false);
        expectFailureWithoutHash();
      } finally {
        await hung.close();
      }
    });
  }

  test("a signal while the runner waits for a leaked stdout still reaches the task's group; failure recorded; exit 143", async () => {
    f = new Fault("signal-stream-wait");
    // The task's bash exits at once, but its background job keeps the task's stdout open: the
    // runner waits for end-of-file (up to the stream timeout, 30 s here) when SIGTERM comes.
    const r = f.runner(["-n", "t", "bash", "-c", "echo $$ > task.pid; sleep 1000 & echo $! > leak.pid; echo done"], {
      TASKRUNNER_OUTPUT_STREAM_TIMEOUT: "30",
    });
    await r.stdout.waitForLine(/^\[t\] stdout \| done$/, 10_000);
    const task = await waitForPidFile(f.path("task.pid"), 1000);
    const leak = await waitForPidFile(f.path("leak.pid"), 1000);
    await waitGone(task, 3000, "the task's bash");
    // Nothing marks "the runner has seen the exit"; give it a bounded moment to.
    await Bun.sleep(200);
    expect(isAlive(r.pid)).toBe(true);
    expect(isAlive(leak)).toBe(true);

    process.kill(r.pid, "SIGTERM");
    expect(await exitOf(r, 5000, "the runner to exit", false)).toEqual({ code: 143, signal: null });
    await waitGone(leak, 3000, "the cancelled task's leftover background job (still in the task's process group)");
    const results = f.stateFiles("builds/*/results/t");
    expect(results.length).toBe(1);
    expect(Number(readFileSync(results[0]!, "utf8").trim())).not.toBe(0);
  });
});
