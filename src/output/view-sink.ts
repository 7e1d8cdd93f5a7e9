// What the runner tells a live view (view/build-view.ts) of its build. Types only: the runner
// holds one of these when the top level's stdout is a terminal, and the view's code is loaded
// only then.
import type { StreamWord } from "./format.ts";

/** How a task ended, as the view counts it. */
export type ViewResult = "ran" | "skipped" | "restored" | "failed";

/** The live view of a build, as the tasks of the top-level runner's process feed it. */
export interface ViewSink {
  /** One line of a task, instead of writing it to the terminal: `fd` 1 for stdout, 2 for the rest. */
  line(fd: 1 | 2, line: { timestamp: string; name: string; stream: StreamWord; bytes: Uint8Array }): void;
  /**
   * A task of this process will tell its parent about itself (`Starting subtask NAME` ...): those
   * notifications, which the parent passes to `notified`, are then not counted a second time.
   */
  expectNotices(name: string): void;
  /** Those notices will not come after all (the task gave up before it started). */
  forgetNotices(name: string): void;
  /** A task of this process started; returns its id for `ended`. */
  started(name: string, logPath: string): string;
  /** It ended. */
  ended(id: string, result: ViewResult, logPath: string): void;
  /** A `debug` request a task got from a subtask: how tasks run by nested executables are seen. */
  notified(text: string): void;
}
