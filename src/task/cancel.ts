import { signalGroup } from "./spawn.ts";

/** The signals a runner handles, and the exit code of a run they cancel (128 + the number). */
export const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
/** A signal that cancels tasks. */
export type Handled = keyof typeof EXIT_CODES;

/**
 * The cancellation of one task invocation (SPEC §5, "Cancellation"). Its state is explicit: no
 * task process yet (the invocation gives up where it is: waiting for its lock, say), a task
 * running (the signal goes to its whole process group and the runner finishes normally), or
 * killed (a second signal). A runner process may run several invocations (the top level serves
 * nested calls), so this is per invocation; `SignalRouter` fans process signals out to them.
 */
export class TaskCancel {
  /** The first signal received, or null. */
  signal: Handled | null = null;
  private pid: number | null = null;
  private wake: () => void = () => {};
  /** Resolves when the invocation is cancelled: waits that must not outlast it race this. */
  readonly cancelled: Promise<void> = new Promise((resolve) => {
    this.wake = resolve;
  });

  private early = false;

  /** Whether a task process (group) is attached, or its first `snapshot` is being decided before it starts: a signal then cancels the task. */
  get running(): boolean {
    return this.pid !== null || this.early;
  }

  /**
   * While the task's first `snapshot` is decided before its process starts (run.ts), a signal
   * cancels the task as it would while its bash waits for the reply: the runner records the
   * failure and says so, instead of ending at once as it does before a task has begun.
   */
  deciding(on: boolean): void {
    this.early = on;
  }

  /**
   * A task's process group exists from now until detach(): also after its leader exited, while
   * leaked background processes may still hold its streams, a signal is passed to the group.
   */
  attach(pid: number): void {
    this.pid = pid;
    // A signal that came while the task was being started is passed on now.
    if (this.signal !== null) signalGroup(pid, this.signal);
  }

  /** The task is finished with; on cancellation, leftover background jobs of its group are ended. */
  detach(): void {
    // Background jobs of a non-interactive bash ignore SIGINT, so they get SIGTERM.
    if (this.pid !== null && this.signal !== null) signalGroup(this.pid, "SIGTERM");
    this.pid = null;
  }

  /** The exit code for a cancelled run: 128 + the signal number. */
  exitCode(): number {
    return this.signal === null ? 1 : EXIT_CODES[this.signal];
  }

  /** Cancels the invocation with `sig` (the first cancellation counts): its task's group gets it. */
  cancel(sig: Handled): void {
    if (this.signal !== null) return;
    this.signal = sig;
    this.wake();
    if (this.pid !== null) signalGroup(this.pid, sig);
  }

  /** Kills the task's whole group at once (a second signal: stop waiting for anything). */
  kill(): void {
    if (this.pid !== null) signalGroup(this.pid, "SIGKILL");
  }
}

/**
 * SIGINT/SIGTERM handling of a runner process: the first signal cancels every invocation it is
 * running (the top level's own task and the nested calls it serves), or, when no task process
 * has started yet, ends the runner at once (nothing to clean up: the kernel drops its locks);
 * a second signal kills every task group and ends the runner.
 */
export class SignalRouter {
  private readonly invocations = new Set<TaskCancel>();
  private first: Handled | null = null;

  constructor(private readonly exitNow: (code: number) => never) {}

  /** Installs the handlers; call once at start-up. */
  install(): void {
    for (const sig of Object.keys(EXIT_CODES) as Handled[]) process.on(sig, () => this.receive(sig));
  }

  /** A new invocation of this process: a new TaskCancel, already cancelled if a signal came. */
  add(): TaskCancel {
    const cancel = new TaskCancel();
    this.invocations.add(cancel);
    if (this.first !== null) cancel.cancel(this.first);
    return cancel;
  }

  /** The invocation has ended. */
  remove(cancel: TaskCancel): void {
    this.invocations.delete(cancel);
  }

  private receive(sig: Handled): void {
    if (this.first !== null) {
      for (const c of this.invocations) c.kill();
      this.exitNow(EXIT_CODES[sig]);
    }
    this.first = sig;
    if (![...this.invocations].some((c) => c.running)) this.exitNow(EXIT_CODES[sig]);
    for (const c of this.invocations) c.cancel(sig);
  }
}
