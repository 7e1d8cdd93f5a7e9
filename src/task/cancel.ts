import { signalGroup } from "./spawn.ts";

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Handled = keyof typeof EXIT_CODES;

/**
 * SIGINT/SIGTERM handling for one invocation (SPEC §5, "Cancellation"). The state is explicit:
 * no task yet (exit at once: nothing to clean up, the kernel drops the lock), a task running
 * (pass the signal to its whole process group and let the runner finish normally), or a second
 * signal (kill the group and exit at once).
 */
export class Cancellation {
  /** The first signal received, or null. */
  signal: Handled | null = null;
  private pid: number | null = null;
  private wake: () => void = () => {};
  /** Resolves when the first signal arrives: waits that must not outlast a cancellation race it. */
  readonly cancelled: Promise<void> = new Promise((resolve) => {
    this.wake = resolve;
  });

  constructor(private readonly exitNow: (code: number) => never) {}

  /** Installs the handlers; call once at start-up. */
  install(): void {
    for (const sig of Object.keys(EXIT_CODES) as Handled[]) process.on(sig, () => this.receive(sig));
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

  private receive(sig: Handled): void {
    if (this.signal !== null) {
      // Second signal: stop waiting for anything.
      if (this.pid !== null) signalGroup(this.pid, "SIGKILL");
      this.exitNow(EXIT_CODES[sig]);
    }
    this.signal = sig;
    this.wake();
    if (this.pid === null) this.exitNow(EXIT_CODES[sig]);
    signalGroup(this.pid, sig);
  }
}
