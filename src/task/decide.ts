import { missingOutputs } from "./outputs.ts";
import { relative, resolve, isAbsolute } from "../sys/path.ts";
import { parseSnapshotArgs, type SnapshotOptions } from "../protocol/snapshot-args.ts";
import { REPLY_CONTINUE, REPLY_ERROR, REPLY_SKIP } from "../protocol/messages.ts";
import { hashInputs, describeInputError, memoOf } from "../inputs/hash.ts";
import { hasUncommittedChanges, currentBranch, mainBranchCommit } from "../inputs/repo-state.ts";
import { readSavedHash, readSavedState, writeSavedState, type SavedState } from "../state/hash-file.ts";
import { archiveName } from "../cache/keys.ts";
import { appendHistory, historyPath, noteSkip, type RecordOutcome } from "../state/history.ts";
import { describeDiff, diffInputs, splitSaved } from "../inputs/input-diff.ts";
import type { RemoteCache } from "../cache/remote-cache.ts";
import type { LocalCache } from "../cache/local-cache.ts";
import type { Trace } from "../trace/spans.ts";

/** What `snapshot` decided for a task (SPEC §5, "Decision"). */
export type Outcome =
  /** No inputs, or inputs changed: the task runs. */
  | "run"
  /** Inputs unchanged: the task ends here, successfully. */
  | "skip"
  /** Restored from the local or remote cache: ends here, and is saved as a success. */
  | "restored"
  /** Prime-cache mode: not run, but saved (and uploaded) as if it had succeeded. */
  | "prime"
  /** Bad arguments or inputs: the task ends with exit 1. */
  | "error";

/** The decision and what to do with it when the task ends. */
export interface Decision {
  outcome: Outcome;
  reply: string;
  /** True once `Inputs changed, running task` was said: the end then says success or failure. */
  announced: boolean;
  /** The state to save if the task succeeds, with what is needed to re-check the inputs. */
  pending: PendingSave | null;
  options: SnapshotOptions | null;
  /** How the output caches (local, remote) apply to this task, or null if neither does. */
  remote: RemotePlan | null;
}

/** A hash waiting for the task's success. */
export interface PendingSave {
  state: SavedState;
  pathspecs: string[];
  raw: Uint8Array[];
  listing: string;
}

/** The remote-cache side of a task: which archive, and what goes in it. */
export interface RemotePlan {
  archive: string;
  version: string | null;
  cacheRoot: string;
  /** Outputs relative to the cache root, and as the task named them. */
  outputs: { rel: string; given: string }[];
  fuzzy: boolean;
}

/** What deciding needs from the invocation. */
export interface DecideContext {
  name: string;
  force: boolean;
  primeCacheMode: boolean;
  hashPath: string;
  /** The stat memo to answer from and record to, or null to always ask git. */
  statMemo: string | null;
  cwd: string;
  env: Record<string, string | undefined>;
  tmpDir: string;
  /** TASKRUNNER_ROOT_DIRECTORY, the default cache root. */
  rootDir: string | null;
  fallbackBranches: string[];
  mainBranch: string | null;
  /** The remote cache, or null if none is configured; created on first use. */
  remoteCache: (() => Promise<RemoteCache>) | null;
  /** The local output cache, or null if TASKRUNNER_LOCAL_CACHE_DIR is not set; created on first use. */
  localCache: (() => Promise<LocalCache>) | null;
  /** A missing setting the remote cache needs for what is asked (an error if it applies). */
  remoteMisconfigured: string | null;
  say(level: "info" | "warn" | "error" | "debug", text: string): void;
  /** The invocation's trace (hashing spans). */
  trace?: Trace;
}

const errorDecision = (): Decision => ({ outcome: "error", reply: REPLY_ERROR, announced: false, pending: null, options: null, remote: null });

/** Answers one `snapshot` request. */
export async function decide(args: Buffer[], ctx: DecideContext): Promise<Decision> {
  const parsed = parseSnapshotArgs(args);
  if (!parsed.ok) {
    ctx.say("error", parsed.error);
    return errorDecision();
  }
  const options = parsed.value;
  const base = { options, remote: null, pending: null, announced: false };
  // Rule 1: no inputs at all means the task can never be skipped.
  if (options.inputs.length === 0 && options.raw.length === 0) {
    ctx.say("debug", "snapshot: no inputs, the task always runs");
    return { ...base, outcome: "run", reply: REPLY_CONTINUE };
  }

  const plan = remotePlan(options, ctx);
  if (!plan.ok) {
    ctx.say("error", plan.error);
    return errorDecision();
  }
  const hashed = await hashInputs({ cwd: ctx.cwd, pathspecs: options.inputs, raw: options.raw, env: ctx.env, tmpDir: ctx.tmpDir, memo: memoOf(ctx.statMemo), trace: ctx.trace });
  if (!hashed.ok) {
    ctx.say("error", describeInputError(hashed.error));
    return errorDecision();
  }
  // hashInput and listing are decoded on first use (hash.ts): not on a skip.
  const { hash, via, declined } = hashed.value;
  if (declined !== undefined) ctx.say("debug", `stat shortcut off for these inputs until the index changes: ${declined}`);
  const savedHash = readSavedHash(ctx.hashPath);
  ctx.say("debug", `hash ${hash} (saved: ${savedHash ?? "none"}${via === "memo" ? "; files unchanged since git listed them, git not run" : ""})`);

  // Inputs unchanged, but a declared output gone: restore it (the caches below) or run.
  const missing = savedHash === hash && !ctx.force ? (missingOutputs(options.outputs, (o) => resolve(ctx.cwd, o))[0] ?? null) : null;
  if (savedHash === hash && !ctx.force && missing === null) {
    noteSkip(historyPath(ctx.hashPath));
    return { ...base, outcome: "skip", reply: REPLY_SKIP };
  }
  if (missing !== null) ctx.say("info", `Output ${missing} is missing, not skipping`);
  const { hashInput, listing } = hashed.value;
  const saved = readSavedState(ctx.hashPath);
  if (saved !== null && saved.hash !== hash) {
    // The saved hash input is already read here: the diff costs no extra file read.
    const now = { listing, raw: hashInput.slice(listing.length) };
    for (const line of describeDiff(diffInputs(splitSaved(saved.hashInput, now), now))) ctx.say("debug", `changed since the saved hash: ${line}`);
  }

  const remote = plan.value === null ? null : { ...plan.value, archive: archiveName(ctx.name, options.cacheVersion, hash) };
  const pending: PendingSave = {
    state: { hash, hashInput, mainBranchCommit: saved?.mainBranchCommit ?? null },
    pathspecs: options.inputs,
    raw: options.raw,
    listing,
  };
  const withPlan = { ...base, remote, pending };
  const record = (outcome: RecordOutcome): void => {
    try {
      appendHistory(historyPath(ctx.hashPath), { time: new Date().toISOString(), outcome, hash, hashInput, listingLength: listing.length });
    } catch (e) {
      // The history only serves --explain: it never fails a task.
      ctx.say("debug", `could not record the decision for --explain: ${(e as Error).message}`);
    }
  };
  if (ctx.primeCacheMode) {
    ctx.say("debug", "prime-cache mode: not running the task, saving it as if it succeeded");
    record("primed");
    return { ...withPlan, outcome: "prime", reply: REPLY_SKIP };
  }

  // The local cache first: it is the developer's own disk, so it applies with uncommitted
  // changes too (the hash covers them; nothing from it reaches anyone else).
  if (remote !== null && ctx.localCache !== null && !ctx.force) {
    const local = await ctx.localCache();
    if ((await local.restore(remote.archive, remote.cacheRoot)) === "restored") {
      ctx.say("info", `Found local cache ${remote.archive}, restoring`);
      ctx.say("info", "Restored from local cache");
      record("restored");
      return { ...withPlan, outcome: "restored", reply: REPLY_SKIP };
    }
  }

  const cache = remote !== null && ctx.remoteCache !== null ? await ctx.remoteCache() : null;
  if (cache !== null && remote !== null && !ctx.force) {
    if (await hasUncommittedChanges(ctx.cwd, options.inputs, ctx.env)) {
      ctx.say("debug", "inputs have uncommitted changes: not restoring from the remote cache");
    } else {
      const restored = await cache.restore(remote.archive, remote.cacheRoot);
      if (restored === "restored") {
        // The lookup is a GET of the archive itself: a hit costs one request, not two.
        ctx.say("info", `Found remote cache ${remote.archive}, restoring`);
        ctx.say("info", "Restored from remote cache");
        record("restored");
        return { ...withPlan, outcome: "restored", reply: REPLY_SKIP };
      }
    }
  }

  ctx.say("info", missing === null ? "Inputs changed, running task" : "Running task");
  record("ran");

  if (cache !== null && remote !== null && remote.fuzzy && !ctx.force) {
    const main = await mainBranchCommit(ctx.cwd, ctx.env, ctx.mainBranch);
    pending.state.mainBranchCommit = main;
    if (saved === null || saved.mainBranchCommit === null || saved.mainBranchCommit !== main) {
      await restoreFuzzy(cache, remote, saved, main, ctx);
    }
  }
  return { ...withPlan, outcome: "run", reply: REPLY_CONTINUE, announced: true };
}

/** Step 7: the latest archive of the current branch, else of each fallback branch. */
async function restoreFuzzy(cache: RemoteCache, remote: RemotePlan, saved: SavedState | null, main: string | null, ctx: DecideContext): Promise<void> {
  const branch = await currentBranch(ctx.cwd, ctx.env);
  const branches = [...(branch === null ? [] : [branch]), ...ctx.fallbackBranches.filter((b) => b !== branch)];
  for (const b of branches) {
    if (!cache.usable) return;
    const hash = await cache.latest(ctx.name, b);
    if (hash === null) continue;
    const archive = archiveName(ctx.name, remote.version, hash);
    if ((await cache.restore(archive, remote.cacheRoot)) !== "restored") continue;
    ctx.say("info", `Restored fuzzy cache from branch ${b}, hash=${hash}`);
    // Saved at once, so a task that then fails does not fetch the same fuzzy cache again.
    writeSavedState(ctx.hashPath, { hash: saved?.hash ?? "", hashInput: saved?.hashInput ?? "", mainBranchCommit: main });
    return;
  }
}

/** Whether and how the remote cache applies; an output outside the cache root is an error. */
function remotePlan(options: SnapshotOptions, ctx: DecideContext): { ok: true; value: Omit<RemotePlan, "archive"> | null } | { ok: false; error: string } {
  if (options.outputs.length === 0 && !options.cacheSuccess) return { ok: true, value: null };
  const cacheRoot = resolve(ctx.cwd, options.cacheRoot ?? ctx.rootDir ?? ".");
  const outputs: { rel: string; given: string }[] = [];
  for (const given of options.outputs) {
    const rel = relative(cacheRoot, resolve(ctx.cwd, given));
    if (rel === "" || rel === ".." || rel.startsWith("../") || isAbsolute(rel)) {
      return { ok: false, error: `snapshot: output ${JSON.stringify(given)} is not inside the cache root ${cacheRoot}; move it under the root, or set --cache-root (or TASKRUNNER_ROOT_DIRECTORY) to a directory that holds it` };
    }
    outputs.push({ rel, given });
  }
  if (ctx.remoteMisconfigured !== null) return { ok: false, error: ctx.remoteMisconfigured };
  if (ctx.remoteCache === null && ctx.localCache === null) return { ok: true, value: null };
  return { ok: true, value: { cacheRoot, outputs, fuzzy: options.fuzzyCache, version: options.cacheVersion } };
}
