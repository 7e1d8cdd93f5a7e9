// Where a build's tasks find its nested-call channel: a file in the build's directory holding
// PORT:SECRET, which the top level writes once it listens. The environment names the file,
// which may not exist yet: the top level listens only once its own task's process has started,
// while that bash starts, because the first Bun.listen of a process and the random secret cost
// ~0.8 ms, which the single no-op would otherwise wait for before its task could start. A call
// that finds no file (none yet, or the build is over) runs the executable, as for any channel
// that cannot be opened.
import { join } from "../sys/path.ts";
import { writeFileAtomic } from "../state/atomic-file.ts";
import { unlinkSync } from "../sys/fs.ts";
import type { CallChannel } from "./function.ts";
import { startCallServer, type CallHandler, type CallServer } from "./server.ts";

/** The channel file of the build whose directory is `buildDir`. */
export function channelFile(buildDir: string): string {
  return join(buildDir, "nest-channel");
}

/** The channel file's text: `PORT:SECRET` and a newline, as the `taskrunner` function reads it. */
export function channelText(channel: CallChannel): string {
  return `${channel.port}:${channel.secret}\n`;
}

/** A build's channel: opened on demand, once; stopped when the top-level task has ended. */
export class BuildChannel<Early> {
  private server: CallServer | null = null;
  private done = false;

  constructor(
    /** Absolute: tasks read it from wherever they `cd`. */
    readonly file: string,
    private readonly handle: CallHandler<Early>,
    private readonly refused: (why: string) => void,
  ) {}

  /**
   * Listens and writes the file (mode 0600: the secret is the user's alone, as the environment
   * is). If either is impossible (no loopback, a state directory that cannot be written: the
   * task reports that), there is no file, and calls run the executable.
   */
  open(): void {
    if (this.done) return;
    this.done = true;
    const server = startCallServer(this.handle, this.refused);
    if (server === null) return;
    try {
      writeFileAtomic(this.file, channelText(server.channel), { mode: 0o600 });
    } catch {
      void server.stop();
      return;
    }
    this.server = server;
  }

  /** Removes the file (later calls run the executable) and waits for the calls being served. */
  async stop(): Promise<void> {
    this.done = true;
    if (this.server === null) return;
    try {
      unlinkSync(this.file);
    } catch {
      // Removed by someone else: nothing more to do.
    }
    await this.server.stop();
  }
}
