// What the live view knows of a build: the tasks running now and how the finished ones ended.
// Fed by the view's taskStarted/taskEnded calls; read by the status area and the summary. No
// I/O and no clock of its own: times are passed in.

/** How a task ended, as the view counts it. */
export type TaskResult =
  /** It ran (inputs changed, or it has none) and succeeded. */
  | "ran"
  /** Its inputs were unchanged: it stopped at `snapshot`. */
  | "skipped"
  /** Its outputs came from the local or remote cache. */
  | "restored"
  /** It exited with a non-zero status or was cancelled. */
  | "failed";

/** A task that has started and not ended. */
export interface RunningTask {
  name: string;
  logPath: string;
  /** Epoch milliseconds. */
  startedAt: number;
}

/** A task that failed: the summary names it and its log. */
export interface FailedTask {
  name: string;
  logPath: string;
}

/** The build as far as the view has seen it. */
export class Progress {
  /** Running tasks by id, in the order they started (a Map keeps insertion order). */
  readonly running = new Map<string, RunningTask>();
  /** Ended tasks by result. */
  readonly counts: Record<TaskResult, number> = { ran: 0, skipped: 0, restored: 0, failed: 0 };
  /** Failed tasks in the order they ended. */
  readonly failed: FailedTask[] = [];

  /** @param buildStart epoch milliseconds when the build started. */
  constructor(readonly buildStart: number) {}

  /** Records a start. A second start of a running id restarts it (its first end is lost). */
  start(id: string, name: string, logPath: string, at: number): void {
    this.running.delete(id);
    this.running.set(id, { name, logPath, startedAt: at });
  }

  /**
   * Records an end. An id that never started still counts (its start may have been missed);
   * it is then named by its id.
   */
  end(id: string, result: TaskResult, logPath: string): void {
    const task = this.running.get(id);
    this.running.delete(id);
    this.counts[result]++;
    if (result === "failed") this.failed.push({ name: task?.name ?? id, logPath });
  }

  /** Ended tasks, whatever their result. */
  done(): number {
    const c = this.counts;
    return c.ran + c.skipped + c.restored + c.failed;
  }
}

/**
 * A duration as the view prints it: `0.4s`, `12.0s`, `1m05s`, `2h03m`. Tenths below a minute
 * (where a build step's time is read closely), whole units above; always floored, so a
 * running clock never shows a value it has not reached.
 */
export function formatDuration(ms: number): string {
  const tenths = Math.floor(Math.max(0, ms) / 100);
  if (tenths < 600) return `${Math.floor(tenths / 10)}.${tenths % 10}s`;
  const seconds = Math.floor(tenths / 10);
  const two = (n: number) => String(n).padStart(2, "0");
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h${two(Math.floor(seconds / 60) % 60)}m`;
}
