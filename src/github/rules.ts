// When a task posts commit statuses and what they say (SPEC §7), pure. The descriptions are
// ours where the spec names none; README.md lists them all.

/** How `snapshot` decided (the task's `Outcome`). */
export type DecidedOutcome = "run" | "skip" | "restored" | "prime" | "error";

/** A status to post, without its context and link. */
export interface StatusText {
  state: "pending" | "success" | "failure";
  description: string;
}

/** Descriptions of statuses posted as `snapshot --commit-status` decides. */
export const DECISION_DESCRIPTIONS = {
  /** The task runs, and can never be skipped: it has no inputs (the spec's text). */
  noInputs: "not cached",
  /** The task runs because its inputs changed (or --force). */
  running: "running",
  /** Skipped, inputs unchanged (the spec's text: a local hash is no proof the outputs exist). */
  skip: "local cache hit (?)",
  /** Restored from the remote cache (the spec's text). */
  restored: "cache hit",
  /** Prime-cache mode: not run, taken as built elsewhere. */
  prime: "not run (prime-cache mode)",
} as const;

/** The status `snapshot --commit-status` posts for a decision, or null (a bad request posts nothing). */
export function decisionStatus(outcome: DecidedOutcome, hasInputs: boolean): StatusText | null {
  switch (outcome) {
    case "run":
      return { state: "pending", description: hasInputs ? DECISION_DESCRIPTIONS.running : DECISION_DESCRIPTIONS.noInputs };
    case "skip":
      return { state: "success", description: DECISION_DESCRIPTIONS.skip };
    case "restored":
      return { state: "success", description: DECISION_DESCRIPTIONS.restored };
    case "prime":
      return { state: "success", description: DECISION_DESCRIPTIONS.prime };
    case "error":
      return null;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

/** What is known about a task when it ends. */
export interface TaskEnd {
  /** The task's exit code (128+N for a signal, 130/143 when the runner was cancelled). */
  code: number;
  /** The signal that cancelled the runner, or null. */
  cancelledBy: string | null;
  /** The decision, or null if `snapshot` was never called. */
  outcome: DecidedOutcome | null;
  /** `snapshot --commit-status` was given. */
  commitStatus: boolean;
  /** The decision's `success` status was posted (the task was skipped with --commit-status). */
  postedSuccess: boolean;
}

/** What to do at the end: post the final status, post it only if one exists for the context, or nothing. */
export type FinalAction = "post" | "post-if-exists" | "none";

/** Whether the task ended without running its work (skipped, restored, primed). */
export function wasSkipped(outcome: DecidedOutcome | null): boolean {
  return outcome === "skip" || outcome === "restored" || outcome === "prime";
}

/**
 * SPEC §7: a final status is posted if `--commit-status` was given and the task was not
 * skipped, or the task failed, or a status for the context already exists on the commit (so a
 * re-run that succeeds replaces an earlier failure). The existing statuses are asked for only
 * when the first two rules do not decide, and not when the decision already posted `success`
 * (that status is the final one; posting it again would say nothing new).
 */
export function finalAction(end: TaskEnd): FinalAction {
  if (end.code !== 0) return "post";
  if (end.postedSuccess) return "none";
  if (end.commitStatus && !wasSkipped(end.outcome)) return "post";
  return "post-if-exists";
}

/** The final status of a task. */
export function finalStatus(end: TaskEnd): StatusText {
  if (end.code === 0) {
    const decided = end.outcome === null ? null : decisionStatus(end.outcome, true);
    const description = wasSkipped(end.outcome) && decided !== null ? decided.description : "success";
    return { state: "success", description };
  }
  if (end.cancelledBy !== null) return { state: "failure", description: `cancelled by ${end.cancelledBy}` };
  return { state: "failure", description: `failed with exit code ${end.code}` };
}
