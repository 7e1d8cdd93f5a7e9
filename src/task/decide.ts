import { parseSnapshotArgs, type SnapshotOptions } from "../protocol/snapshot-args.ts";
import { REPLY_CONTINUE, REPLY_ERROR, REPLY_SKIP } from "../protocol/messages.ts";
import { hashInputs, describeInputError } from "../inputs/hash.ts";
import { readSavedState, type SavedState } from "../state/hash-file.ts";

/** What `snapshot` decided for a task (SPEC §5, "Decision"). */
export type Outcome =
  /** No inputs, or inputs changed: the task runs. */
  | "run"
  /** Inputs unchanged: the task ends here, successfully. */
  | "skip"
  /** Prime-cache mode: not run, but saved as if it had succeeded. */
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
}

/** A hash waiting for the task's success. */
export interface PendingSave {
  state: SavedState;
  pathspecs: string[];
  raw: Uint8Array[];
  listing: string;
}

/** What deciding needs from the invocation. */
export interface DecideContext {
  force: boolean;
  primeCacheMode: boolean;
  hashPath: string;
  cwd: string;
  env: Record<string, string | undefined>;
  tmpDir: string;
  say(level: "info" | "warn" | "error" | "debug", text: string): void;
}

const errorDecision = (): Decision => ({ outcome: "error", reply: REPLY_ERROR, announced: false, pending: null, options: null });

/** Answers one `snapshot` request. */
export async function decide(args: Buffer[], ctx: DecideContext): Promise<Decision> {
  const parsed = parseSnapshotArgs(args);
  if (!parsed.ok) {
    ctx.say("error", parsed.error);
    return errorDecision();
  }
  const options = parsed.value;
  // Rule 1: no inputs at all means the task can never be skipped.
  if (options.inputs.length === 0 && options.raw.length === 0) {
    ctx.say("debug", "snapshot: no inputs, the task always runs");
    return { outcome: "run", reply: REPLY_CONTINUE, announced: false, pending: null, options };
  }

  const hashed = await hashInputs({ cwd: ctx.cwd, pathspecs: options.inputs, raw: options.raw, env: ctx.env, tmpDir: ctx.tmpDir });
  if (!hashed.ok) {
    ctx.say("error", describeInputError(hashed.error));
    return errorDecision();
  }
  const { hash, hashInput, listing } = hashed.value;
  const saved = readSavedState(ctx.hashPath);
  ctx.say("debug", `hash ${hash} (saved: ${saved?.hash ?? "none"})`);

  if (saved !== null && saved.hash === hash && !ctx.force) {
    return { outcome: "skip", reply: REPLY_SKIP, announced: false, pending: null, options };
  }
  const pending: PendingSave = {
    state: { hash, hashInput, mainBranchCommit: saved?.mainBranchCommit ?? null },
    pathspecs: options.inputs,
    raw: options.raw,
    listing,
  };
  if (ctx.primeCacheMode) {
    ctx.say("debug", "prime-cache mode: not running the task, saving its hash as if it succeeded");
    return { outcome: "prime", reply: REPLY_SKIP, announced: false, pending, options };
  }
  ctx.say("info", "Inputs changed, running task");
  return { outcome: "run", reply: REPLY_CONTINUE, announced: true, pending, options };
}
