import { readOffMarker, writeOffMarker } from "../state/off-marker.ts";
import { headCommit } from "../inputs/repo-state.ts";
import { decisionStatus, finalAction, finalStatus, type DecidedOutcome, type StatusText } from "../github/rules.ts";
import type { StatusApi } from "../github/status-client.ts";

type Say = (level: "info" | "warn" | "error" | "debug", text: string) => void;

/** How a task reaches the GitHub API; the client (and octokit) is loaded on first use. */
export interface CommitStatusAccess {
  open(say: Say): Promise<StatusApi>;
}

/** What reporting needs from the invocation. */
export interface ReportContext {
  name: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** `builds/<build>/commit-status-off`: why statuses went off earlier in this build. */
  offMarker: string;
  say: Say;
}

/** How a task ended, for its final status. */
export interface TaskEnding {
  code: number;
  cancelledBy: string | null;
  outcome: DecidedOutcome | null;
  commitStatus: boolean;
  /** The uploaded log's URL, or null. */
  targetUrl: string | null;
}

/**
 * The commit statuses of one task (SPEC §7): prepare the token (top level), post as `snapshot`
 * decides, post the final status when the task ends. Degrades like the remote cache: the first
 * failure to reach GitHub (after retries) is one `warn`, and a marker in the build directory
 * turns statuses off for the rest of the build, so an outage costs one timeout per build. The
 * task's exit code never depends on it.
 */
export class TaskReport {
  private api: Promise<StatusApi> | null = null;
  private sha: Promise<string | null> | null = null;
  /** Why statuses are off for this task, or null. */
  private off: string | null = null;
  private postedSuccess = false;

  constructor(
    private readonly access: CommitStatusAccess,
    private readonly ctx: ReportContext,
  ) {}

  /** Top level: makes sure a fresh token is cached before the task starts, for all its subtasks. */
  async prepare(): Promise<void> {
    if (this.isOff()) return;
    await this.guard(async () => {
      const r = await (await this.client()).prepare();
      if (!r.ok) this.turnOff(r.error);
    });
  }

  /** `snapshot` decided: with --commit-status, post `pending` or `success`. */
  async decided(outcome: DecidedOutcome, commitStatus: boolean, hasInputs: boolean): Promise<void> {
    if (!commitStatus) return;
    const text = decisionStatus(outcome, hasInputs);
    if (text === null) return;
    await this.guard(async () => {
      if ((await this.post(text, null)) && text.state === "success") this.postedSuccess = true;
    });
  }

  /** The task ended: post its final status if SPEC §7 says so. */
  async finished(end: TaskEnding): Promise<void> {
    const full = { ...end, postedSuccess: this.postedSuccess };
    const action = finalAction(full);
    if (action === "none" || this.isOff()) return;
    await this.guard(async () => {
      if (action === "post-if-exists") {
        const sha = await this.commit();
        if (sha === null) return;
        const exists = await (await this.client()).exists(sha, this.ctx.name);
        if (!exists.ok) return this.turnOff(exists.error);
        if (!exists.value) {
          this.ctx.say("debug", `no commit status for ${this.ctx.name} yet: not posting one`);
          return;
        }
      }
      await this.post(finalStatus(full), end.targetUrl);
    });
  }

  /** Expected failures are values; anything thrown (a bug, unexpected I/O) also only turns statuses off. */
  private async guard(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (e) {
      this.turnOff(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Posts a status; true if posted. */
  private async post(text: StatusText, targetUrl: string | null): Promise<boolean> {
    if (this.isOff()) return false;
    const sha = await this.commit();
    if (sha === null) return false;
    const r = await (await this.client()).post(sha, { context: this.ctx.name, description: text.description, state: text.state, target_url: targetUrl });
    if (!r.ok) {
      this.turnOff(r.error);
      return false;
    }
    this.ctx.say("debug", `posted commit status ${text.state} (${text.description}) for ${this.ctx.name}`);
    return true;
  }

  /**
   * Whether statuses are off, for this task or (marker) for the build. The marker is looked
   * for before each operation, not once: a parent learns of its subtasks' failures.
   */
  private isOff(): boolean {
    if (this.off !== null) return true;
    this.off = readMarker(this.ctx.offMarker);
    if (this.off !== null) this.ctx.say("debug", `Commit statuses are off for this task: ${this.off}`);
    return this.off !== null;
  }

  private client(): Promise<StatusApi> {
    return (this.api ??= this.access.open(this.ctx.say));
  }

  /** `git rev-parse HEAD`, once per invocation; null (statuses off for this task, one warn) if none. */
  private commit(): Promise<string | null> {
    return (this.sha ??= headCommit(this.ctx.cwd, this.ctx.env).then((r) => {
      if (r.ok) return r.value;
      // Not turned off for the build: other tasks may run in a repository.
      this.off = "no commit";
      this.ctx.say("warn", `Not posting commit statuses for ${this.ctx.name}: git rev-parse HEAD failed in ${this.ctx.cwd}: ${r.error}`);
      return null;
    }));
  }

  private turnOff(reason: string): void {
    this.off = reason;
    this.ctx.say("warn", `Commit statuses are off for the rest of this build: ${reason}`);
    writeOffMarker(this.ctx.offMarker, reason);
  }
}

function readMarker(path: string): string | null {
  const reason = readOffMarker(path);
  return reason === null ? null : `they failed earlier in this build (${reason})`;
}
