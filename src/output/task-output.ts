import { openSync, writeSync, closeSync, mkdirSync, constants } from "../sys/fs.ts";
import { dirname } from "../sys/path.ts";
import { type StreamWord, clock, joinLine, terminalPrefix, logPrefix, targetStream, isShown } from "./format.ts";
import { StateWriteError } from "../state/state-error.ts";
import type { ViewSink } from "./view-sink.ts";

/** How a task's lines are rendered and where they go. */
export interface OutputConfig {
  name: string;
  timestamps: boolean;
  showInfo: boolean;
  showDebug: boolean;
  quiet: boolean;
  /** The build's top-level descriptors (SPEC §2). */
  stdoutFd: number;
  stderrFd: number;
  logPath: string;
  /** Local time is UTC (format.ts localTimeIsUtc): timestamps need no time zone data. */
  utc?: boolean;
  /** The build's live view, which then shows the lines instead of the descriptors (terminals only). */
  view?: ViewSink | null;
}

/** A line shown on the top-level streams: where it goes and what it is. */
interface Shown {
  fd: 1 | 2;
  timestamp: string;
  stream: StreamWord;
  bytes: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * The output layer of one task: every line goes, annotated, to the top-level streams (held
 * back in quiet mode) and to the task's log file. The only module that writes task output.
 */
export class TaskOutput {
  private logFd: number | null = null;
  /** The first failure to write the log; later lines then go only to the top-level streams. */
  private logFailure: StateWriteError | null = null;
  private held: Shown[] = [];
  /** Log lines waiting while the log is held (holdLog), in order; null when not held. */
  private logQueue: Uint8Array[] | null = null;
  private lastSecond = -1;
  private stamp = "";

  constructor(private readonly config: OutputConfig) {}

  /** Emits one line of the task's output or a runner message (bytes, without the newline). */
  line(stream: StreamWord, bytes: Uint8Array): void {
    const ts = this.timestamp();
    this.writeLog(joinLine(logPrefix(ts, stream), bytes));
    if (!isShown(stream, { info: this.config.showInfo, debug: this.config.showDebug })) return;
    const shown: Shown = { fd: targetStream(stream) === "stdout" ? 1 : 2, timestamp: ts, stream, bytes };
    if (this.config.quiet) this.held.push(shown);
    else this.show(shown);
  }

  /** Emits a runner message at a level. */
  message(level: "info" | "warn" | "error" | "debug", text: string): void {
    this.line(level, encoder.encode(text));
  }

  /**
   * Computes the current timestamp ahead of the first line: called while the task's bash is
   * starting, so that loading the time zone data (3.5 ms when local time is not UTC) overlaps it.
   */
  warmClock(): void {
    this.timestamp();
  }

  /** Ends the task's output: quiet mode writes what it held (to stderr) only if the task failed. */
  finish(success: boolean): void {
    this.releaseLog();
    if (this.config.quiet && !success) for (const shown of this.held) this.show({ ...shown, fd: 2 });
    this.held = [];
    if (this.logFd !== null) {
      closeSync(this.logFd);
      this.logFd = null;
    }
  }

  private show(line: Shown): void {
    const view = this.config.view;
    if (view) return view.line(line.fd, { ...line, name: this.config.name });
    writeAll(line.fd === 1 ? this.config.stdoutFd : this.config.stderrFd, joinLine(terminalPrefix(line.timestamp, this.config.name, line.stream), line.bytes));
  }

  private timestamp(): string {
    if (!this.config.timestamps) return "";
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.stamp = clock(new Date(now), this.config.utc === true);
    }
    return this.stamp;
  }

  /**
   * Keeps log lines in memory until `releaseLog`, in order: the lines a `snapshot` decision logs
   * are written after its reply has gone, so opening and writing the log is not on the task's
   * way. What goes to the terminal is not held.
   */
  holdLog(): void {
    this.logQueue ??= [];
  }

  /** Writes the held log lines (one write) and stops holding. */
  releaseLog(): void {
    const queue = this.logQueue;
    if (queue === null) return;
    this.logQueue = null;
    if (queue.length > 0) this.writeLog(queue.length === 1 ? queue[0]! : Buffer.concat(queue));
  }

  /** Why the log could not be written (full disk, read-only file system), or null. */
  logError(): StateWriteError | null {
    this.releaseLog();
    return this.logFailure;
  }

  private writeLog(bytes: Uint8Array): void {
    if (this.logQueue !== null) {
      this.logQueue.push(bytes);
      return;
    }
    if (this.logFailure !== null) return;
    try {
      if (this.logFd === null) this.logFd = openLog(this.config.logPath);
      writeAll(this.logFd, bytes);
    } catch (e) {
      // The task goes on (its lines still reach the terminal); the runner fails it at the end.
      this.logFailure = new StateWriteError(this.config.logPath, "write the log", e);
    }
  }
}

function openLog(path: string): number {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
  try {
    return openSync(path, flags, 0o666);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, flags, 0o666);
  }
}

/**
 * Writes a whole line. One write(2) for the common case, so lines of parallel tasks never
 * interleave; a reader that went away (EPIPE, e.g. `| head`) must not stop the build.
 */
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EPIPE" || code === "EBADF") return;
    if (code === "EAGAIN") return writeAllBlocking(fd, bytes, offset);
    throw e;
  }
}

// A non-blocking top-level descriptor (shared with another program that set O_NONBLOCK) can
// answer EAGAIN; wait for room rather than drop the line.
function writeAllBlocking(fd: number, bytes: Uint8Array, offset: number): void {
  const deadline = Date.now() + 60_000;
  while (offset < bytes.length && Date.now() < deadline) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return;
      Bun.sleepSync(1);
    }
  }
}
