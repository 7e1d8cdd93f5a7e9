import { hashInputs, changedPaths, memoOf } from "../inputs/hash.ts";
import { writeSavedState } from "../state/hash-file.ts";
import type { TaskOutput } from "../output/task-output.ts";
import type { Decision, RemotePlan } from "./decide.ts";
import { runPostUnpack } from "./post-unpack.ts";
import { join } from "../sys/path.ts";
import { missingOutputs } from "./outputs.ts";
import { currentBranch } from "../inputs/repo-state.ts";
import type { RemoteCache } from "../cache/remote-cache.ts";
import type { LocalCache } from "../cache/local-cache.ts";
import type { Trace } from "../trace/spans.ts";

/** What finishing a successful task needs. */
export interface FinishContext {
  name: string;
  cwd: string;
  env: Record<string, string | undefined>;
  hashPath: string;
  statMemo: string | null;
  tmpDir: string;
  /** TASKRUNNER_SAVE_REMOTE_CACHE=1: upload the outputs of a task that ran or primed. */
  saveRemoteCache: boolean;
  remoteCache: (() => Promise<RemoteCache>) | null;
  localCache: (() => Promise<LocalCache>) | null;
  /** True once the runner was signalled: nothing more may be saved or uploaded. */
  cancelled(): boolean;
  out: TaskOutput;
  /** The invocation's trace (the re-hash is a span). */
  trace?: Trace;
  say(level: "info" | "warn" | "error" | "debug", text: string): void;
}

/**
 * After a success with a hash to save: check the inputs did not change under the task, run the
 * post-unpack commands, then save the hash. Returns the task's final exit code.
 *
 * The commands run BEFORE the hash is saved (the spec lists them after): if one fails, the
 * task must not be skipped next time, so no hash may be on disk.
 */
export async function finishSuccess(decision: Decision, ctx: FinishContext): Promise<number> {
  const pending = decision.pending;
  if (pending === null) return 0;
  // Only a task that ran can have changed its inputs, and only its outputs are new: restored
  // ones came from a cache.
  const ran = decision.outcome === "run";
  const fresh = ran || decision.outcome === "prime";
  if (ran && pending.pathspecs.length > 0) {
    const again = await hashInputs({ cwd: ctx.cwd, pathspecs: pending.pathspecs, raw: pending.raw, env: ctx.env, tmpDir: ctx.tmpDir, memo: memoOf(ctx.statMemo), trace: ctx.trace });
    const unchanged = again.ok && again.value.hash === pending.state.hash;
    if (!unchanged) {
      const paths = again.ok ? changedPaths(pending.listing, again.value.listing) : [];
      const which = paths.length > 0 ? paths.join(", ") : "(the inputs could not be hashed again)";
      ctx.say("warn", `Inputs changed while the task was running, not saving its hash (it will run again next time): ${which}`);
      return 0;
    }
  }
  for (const command of decision.options?.postUnpack ?? []) {
    if (ctx.cancelled()) return 1;
    ctx.say("debug", `running post-unpack command: ${command}`);
    const code = await runPostUnpack(command, ctx.cwd, ctx.env, (line) => ctx.out.line("stderr", line));
    if (code !== 0) {
      ctx.say("error", `post-unpack command failed with exit code ${code}: ${command}`);
      return 1;
    }
  }
  if (ctx.cancelled()) return 1;
  writeSavedState(ctx.hashPath, pending.state);
  const plan = decision.remote;
  const fill = fresh && ctx.localCache !== null;
  const upload = fresh && ctx.saveRemoteCache && ctx.remoteCache !== null;
  if (plan === null || !(fill || upload)) return 0;
  const missing = missingOutputs(plan.outputs, (o) => join(plan.cacheRoot, o.rel));
  if (missing.length > 0) {
    const not = upload ? `Not uploading ${plan.archive}` : `Not saving ${plan.archive} in the local cache`;
    ctx.say("warn", `${not}: these outputs do not exist after the task succeeded: ${missing.map((o) => o.given).join(", ")}`);
    return 0;
  }
  const filled = fill && (await fillLocal(plan, ctx));
  if (upload) await uploadOutputs(decision, plan, ctx, filled);
  return 0;
}

/** Saves the outputs in the local cache (whether or not they are uploaded too). */
async function fillLocal(plan: RemotePlan, ctx: FinishContext): Promise<boolean> {
  if (ctx.localCache === null) return false;
  const local = await ctx.localCache();
  const filled = await local.fill(plan.archive, plan.cacheRoot, plan.outputs.map((o) => o.rel));
  if (filled) ctx.say("debug", `saved ${plan.archive} in the local cache`);
  return filled;
}

/**
 * Uploads the outputs, and with --fuzzy-cache records the hash as this branch's latest. With
 * the local cache just filled, its copy of the archive is uploaded: the outputs are packed once.
 */
async function uploadOutputs(decision: Decision, plan: RemotePlan, ctx: FinishContext, filledLocal: boolean): Promise<void> {
  const pending = decision.pending;
  if (pending === null || ctx.remoteCache === null) return;
  const cache = await ctx.remoteCache();
  const local = filledLocal && ctx.localCache !== null ? await ctx.localCache() : null;
  const copy = local === null ? undefined : () => local.read(plan.archive);
  if (!(await cache.upload(plan.archive, plan.cacheRoot, plan.outputs.map((o) => o.rel), copy))) return;
  ctx.say("debug", `uploaded ${plan.archive}`);
  if (!plan.fuzzy) return;
  const branch = await currentBranch(ctx.cwd, ctx.env);
  if (branch === null) {
    ctx.say("debug", "detached HEAD: not recording a latest hash for the fuzzy cache");
    return;
  }
  await cache.setLatest(ctx.name, branch, pending.state.hash);
}
