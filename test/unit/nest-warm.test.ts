// The top level's warm-up of the serving code (nest/serve.ts) and when a task's idle-time work
// runs (task/run.ts): the warm-up parses a real-looking call, and starts, opens and writes nothing.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { madeUpRequest, nestedCalls, type ServedBuild } from "../../src/nest/serve.ts";
import { parseCall } from "../../src/nest/request.ts";
import { SignalRouter } from "../../src/task/cancel.ts";
import { IDLE_AFTER_MS, idleWork } from "../../src/task/run.ts";

const exitNow = (code: number): never => {
  throw new Error(`exit ${code}`);
};
const build = (): ServedBuild => ({ buildId: "2026-12-04T00:00:00.000Z-1", stdoutFd: 1, stderrFd: 2, router: new SignalRouter(exitNow), view: null });

describe("warming the serving code", () => {
  test("the made-up call is one the parser reads: this build's, a `true` task", () => {
    const call = parseCall(madeUpRequest(build()));
    if (!call.ok) throw new Error(call.error);
    expect(call.value.argv).toEqual(["-n", "warm-up", "true"]);
    expect(call.value.pid).toBe(process.pid);
    expect(call.value.env._taskrunner_build_id).toBe("2026-12-04T00:00:00.000Z-1");
    expect(call.value.env.PATH).toBe(process.env.PATH!);
  });

  test("warm() leaves the state directory as it was and starts nothing", () => {
    const state = mkdtempSync(join(tmpdir(), "nest-warm-"));
    const saved = process.env.TASKRUNNER_STATE_DIRECTORY;
    process.env.TASKRUNNER_STATE_DIRECTORY = state;
    try {
      // A task started for it would be added to the build's signal router.
      const router = new SignalRouter(exitNow);
      let added = 0;
      const add = router.add.bind(router);
      router.add = () => (added++, add());
      nestedCalls({ ...build(), router }).warm();
      expect(readdirSync(state)).toEqual([]);
      expect(added).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.TASKRUNNER_STATE_DIRECTORY;
      else process.env.TASKRUNNER_STATE_DIRECTORY = saved;
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe("a task's idle-time work", () => {
  const waitFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("runs once when the task has not called snapshot in time", async () => {
    let runs = 0;
    idleWork(() => runs++);
    expect(runs).toBe(0);
    await waitFor(IDLE_AFTER_MS * 3);
    expect(runs).toBe(1);
  });

  test("waits while snapshot is answered, then runs if the task runs, once", async () => {
    let runs = 0;
    const idle = idleWork(() => runs++);
    idle.postpone();
    await waitFor(IDLE_AFTER_MS * 3);
    expect(runs).toBe(0);
    idle.now();
    idle.now();
    await waitFor(5);
    expect(runs).toBe(1);
  });

  test("is dropped when the task is skipped or ends", async () => {
    let runs = 0;
    const idle = idleWork(() => runs++);
    idle.postpone();
    idle.cancel();
    idle.now();
    await waitFor(IDLE_AFTER_MS * 3);
    expect(runs).toBe(0);
  });
});
