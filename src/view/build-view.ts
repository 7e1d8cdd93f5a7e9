// The live view of a build as the top-level runner feeds it: its own tasks (the top-level one
// and the nested calls it serves) report themselves; tasks run by nested executables are seen
// through what the top level already receives: their lines, which they write to the build's
// descriptors (pipes read here while the view is on), and the `Starting subtask` / `Subtask
// ... finished` notices their parents get. Loaded only when the view is on.
import { join } from "../sys/path.ts";
import { closeSync } from "../sys/fs.ts";
import { pipe } from "../sys/libc.ts";
import { readLines, within } from "../task/streams.ts";
import type { StreamWord } from "../output/format.ts";
import type { ViewResult, ViewSink } from "../output/view-sink.ts";
import { LiveView } from "./live-view.ts";
import { sameTerminal } from "./terminal.ts";

/** Counts of notices a task of this process will cause, per task name. */
interface Expected {
  starts: number;
  logs: number;
  ends: number;
}

const STARTING = /^Starting subtask (.+)$/s;
const LOG = /^Subtask (.+) log: (.+)$/s;
const FINISHED = /^Subtask (.+) finished with (?:ExitSuccess|ExitFailure (\d+))$/s;
// `[HH:MM:SS ][name] stream | ` as output/format.ts writes it.
const PREFIX = /^((?:\d\d:\d\d:\d\d )?)\[(.+?)\] (stdout|stderr|info|warn|error|debug) \| /s;

/** The view's side of a build: a ViewSink for the runner's tasks, and the lines of nested executables. */
export class BuildView implements ViewSink {
  private served = 0;
  private externals = 0;
  private readonly expected = new Map<string, Expected>();
  /** Tasks of nested executables now running, by name (ids in start order), and their logs. */
  private readonly running = new Map<string, string[]>();
  private readonly logs = new Map<string, string>();

  constructor(
    private readonly view: LiveView,
    private readonly stateDir: string,
  ) {}

  line(fd: 1 | 2, line: { timestamp: string; name: string; stream: StreamWord; bytes: Uint8Array }): void {
    this.view.line(fd, line);
  }

  expectNotices(name: string): void {
    const e = this.expected.get(name) ?? { starts: 0, logs: 0, ends: 0 };
    e.starts++;
    e.logs++;
    e.ends++;
    this.expected.set(name, e);
  }

  forgetNotices(name: string): void {
    const e = this.expected.get(name);
    if (e !== undefined && e.ends > 0) e.ends--;
  }

  started(name: string, logPath: string): string {
    const id = `served-${++this.served}`;
    this.view.taskStarted(id, name, logPath);
    return id;
  }

  ended(id: string, result: ViewResult, logPath: string): void {
    this.view.taskEnded(id, result, logPath);
  }

  notified(text: string): void {
    const start = STARTING.exec(text);
    if (start !== null) return this.externalStart(start[1]!);
    const log = LOG.exec(text);
    if (log !== null) {
      if (!this.consume(log[1]!, "logs")) this.logs.set(log[1]!, join(this.stateDir, log[2]!));
      return;
    }
    const end = FINISHED.exec(text);
    if (end !== null) this.externalEnd(end[1]!, end[2] === undefined);
  }

  /** A line a nested executable wrote to the build's descriptors (without its newline). */
  forward(fd: 1 | 2, bytes: Uint8Array): void {
    const head = Buffer.from(bytes.subarray(0, 512)).toString("latin1");
    const m = PREFIX.exec(head);
    if (m === null) {
      const whole = new Uint8Array(bytes.length + 1);
      whole.set(bytes);
      whole[bytes.length] = 10;
      return this.view.text(fd, whole);
    }
    const name = Buffer.from(m[2]!, "latin1").toString("utf8");
    this.view.line(fd, { timestamp: m[1]!, name, stream: m[3] as StreamWord, bytes: bytes.subarray(m[0].length) });
  }

  /** Ends the view: the area gives way to the summary. */
  close(success: boolean): void {
    this.view.close(success);
  }

  private consume(name: string, kind: keyof Expected): boolean {
    const e = this.expected.get(name);
    if (e === undefined || e[kind] === 0) return false;
    e[kind]--;
    if (e.starts === 0 && e.logs === 0 && e.ends === 0) this.expected.delete(name);
    return true;
  }

  private externalStart(name: string): void {
    if (this.consume(name, "starts")) return;
    const id = `executable-${++this.externals}`;
    this.running.set(name, [...(this.running.get(name) ?? []), id]);
    this.view.taskStarted(id, name, this.logs.get(name) ?? "");
  }

  private externalEnd(name: string, success: boolean): void {
    if (this.consume(name, "ends")) return;
    const ids = this.running.get(name) ?? [];
    const id = ids.shift() ?? `executable-${++this.externals}`;
    if (ids.length === 0) this.running.delete(name);
    // A notice says only the exit status: a nested executable's task counts as ran or failed.
    this.view.taskEnded(id, success ? "ran" : "failed", this.logs.get(name) ?? "");
  }
}

/** The view of a build, with the descriptors its tasks' children get as the build's (fds 3 and 4). */
export interface StartedView {
  sink: BuildView;
  /** Write ends of the pipes nested executables write their lines to, instead of the terminal. */
  stdoutFd: number;
  stderrFd: number;
  /** Closes the pipes, forwards what is left in them (waiting at most `ms`), then closes the view. */
  finish(success: boolean, ms: number): Promise<void>;
}

/**
 * Starts the live view on the terminal at fd 1. Nested executables write straight to the build's
 * descriptors; on a terminal that would cut through the status area, so while the view is on,
 * those descriptors are pipes whose lines are passed to the view.
 */
export function startBuildView(stateDir: string): StartedView {
  const view = new LiveView({ stderrIsTerminal: sameTerminal(1, 2) });
  const sink = new BuildView(view, stateDir);
  const [outR, outW] = pipe();
  const [errR, errW] = pipe();
  const readers = [readLines(outR, (l) => sink.forward(1, l)), readLines(errR, (l) => sink.forward(2, l))];
  return {
    sink,
    stdoutFd: outW,
    stderrFd: errW,
    async finish(success, ms) {
      closeSync(outW);
      closeSync(errW);
      // A leftover background executable may hold them: its later lines are not waited for.
      if (!(await within(Promise.all(readers.map((r) => r.done)), ms))) for (const r of readers) r.abandon();
      sink.close(success);
    },
  };
}
