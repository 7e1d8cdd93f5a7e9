// Build traces (Chrome trace-event format): each invocation records its spans in memory and
// appends them, at its end, as ONE line to builds/<build>/trace.events with a single O_APPEND
// write, so nested and parallel runners of a build never interleave. The top level then turns
// the lines into trace.json. Tiny on purpose: this module is on the no-op path.

import { closeSync, openSync, readFileOrNull, writeSync, constants } from "../sys/fs.ts";
import { join } from "../sys/path.ts";
import { writeFileAtomic } from "../state/atomic-file.ts";

/** One complete ("X") or metadata ("M") trace event; times in microseconds since the epoch. */
export interface TraceEvent {
  name: string;
  ph: "X" | "M";
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  cat?: string;
  args?: Record<string, string | number>;
}

/** All tasks of a build share one trace process; each invocation is a thread of its own. */
export const TRACE_PID = 1;

/** Microseconds since the epoch, sub-millisecond, comparable across the processes of a build. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

// Thread ids of invocations served inside another runner's process (nested calls of the fast
// path): above every possible pid (Linux caps pids at 2^22), so they never meet a runner's own.
const SERVED_TID_BASE = 1 << 22;
let servedTids = 0;

/**
 * The spans of one task invocation, kept in memory until `flush`. A runner process serves one
 * invocation (its tid is the OS pid), or, at the top level, also the nested calls of its build
 * (each with a tid of its own): so spans belong to a Trace, never to the process.
 */
export class Trace {
  private readonly events: TraceEvent[] = [];

  /** `tid`: the runner's pid for its own invocation; `Trace.served()` for a nested call it serves. */
  constructor(readonly tid: number = process.pid) {}

  /** A trace for an invocation served in-process, with a thread id of its own. */
  static served(): Trace {
    return new Trace(SERVED_TID_BASE + ++servedTids);
  }

  /** Records a span that started at `startUs` and ends now. */
  endSpan(name: string, startUs: number, args?: Record<string, string | number>): void {
    const ev: TraceEvent = { name, ph: "X", pid: TRACE_PID, tid: this.tid, ts: startUs, dur: Math.max(0, nowUs() - startUs), cat: "taskrunner" };
    if (args !== undefined) ev.args = args;
    this.events.push(ev);
  }

  /** Runs `fn` as a span named `name`. */
  async timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = nowUs();
    try {
      return await fn();
    } finally {
      this.endSpan(name, start);
    }
  }

  /**
   * Wraps the named async methods of `obj` in spans (in place) and returns it: the caches and the
   * status reporter are traced without them knowing about traces.
   */
  traceMethods<T extends object>(obj: T, names: Partial<Record<keyof T, string>>): T {
    for (const [method, span] of Object.entries(names) as [keyof T & string, string][]) {
      const original = obj[method];
      if (typeof original !== "function") continue;
      (obj as Record<string, unknown>)[method] = (...args: unknown[]) => this.timed(span, () => (original as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
    }
    return obj;
  }

  /**
   * Appends the events, with the thread's name (the task name), as one line. A trace is a
   * diagnostic: a failure to write it never changes the build.
   */
  flush(buildDir: string, taskName: string): void {
    const meta: TraceEvent = { name: "thread_name", ph: "M", pid: TRACE_PID, tid: this.tid, ts: 0, args: { name: taskName } };
    const line = `${JSON.stringify([meta, ...this.events])}\n`;
    this.events.length = 0;
    try {
      const fd = openSync(tracePaths(buildDir).events, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
      try {
        writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
    } catch {
      // no trace rather than a failed build
    }
  }
}

/** The path of a build's event lines and of its trace. */
export function tracePaths(buildDir: string): { events: string; json: string } {
  return { events: join(buildDir, "trace.events"), json: join(buildDir, "trace.json") };
}

/** Turns event lines into a trace-event JSON document; a damaged line is left out. */
export function mergeEventLines(text: string, buildId: string): string {
  const all: TraceEvent[] = [{ name: "process_name", ph: "M", pid: TRACE_PID, tid: 0, ts: 0, args: { name: `build ${buildId}` } }];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (Array.isArray(parsed)) all.push(...(parsed as TraceEvent[]));
    } catch {
      // a line cut short by a killed runner: skip it, keep the rest of the trace valid
    }
  }
  return JSON.stringify({ traceEvents: all, displayTimeUnit: "ms" });
}

/** Writes builds/<build>/trace.json from its event lines (atomically: temp file + rename). */
export function writeTraceJson(buildDir: string, buildId: string): string | null {
  const paths = tracePaths(buildDir);
  const text = readFileOrNull(paths.events, "utf8");
  if (text === null) return null;
  try {
    writeFileAtomic(paths.json, mergeEventLines(text, buildId));
    return paths.json;
  } catch {
    return null;
  }
}
