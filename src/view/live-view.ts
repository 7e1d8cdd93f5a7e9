// The live view: owns the terminal while a build runs. Task lines scroll, colored, above a status
// area of running tasks and counts (status-area.ts); when the build ends the area gives way to
// a summary (summary.ts). Created by the top level only when its stdout is a terminal and colors
// are allowed (SPEC §3), and loaded with a dynamic import(), so nothing of it costs a build that
// prints to a pipe or a file.
//
// The screen protocol is plain ANSI, no alternate screen and no scroll region: the area is
// always the last rows of output, drawn as whole lines each ending in "\n", so the cursor rests
// at column 0 of the row below it. To print a task line: `\r`, cursor up one row per area row
// (`ESC [ N A`), erase to the end of the screen (`ESC [ J`), the line; the area comes back when
// the lines of this turn of the event loop are written. Every write is one buffer of whole lines,
// so nothing else of ours lands inside a line, and the area is never drawn mid-line.
//
// Redraws: the area's text is rendered at most every 100 ms (a spinner frame and tenths of a
// second change no faster); in between, the last rendering is repainted. Timers are unref'd,
// so the view never keeps the process alive.
import { joinLine, terminalPrefix } from "../output/format.ts";
import { colorLine, type ViewLine } from "./colors.ts";
import { Progress, type TaskResult } from "./progress.ts";
import { statusLines, type TerminalSize } from "./status-area.ts";
import { summaryLines } from "./summary.ts";
import { stdoutSize, unrefTimer, watchResize, writeWhole } from "./terminal.ts";
import { displayWidth } from "./width.ts";

/** How often the area's text may be rendered anew, in milliseconds. */
export const RENDER_INTERVAL_MS = 100;

/** What the view is given; everything but `stderrIsTerminal` has a default for the real terminal. */
export interface LiveViewOptions {
  /**
   * Whether fd 2 is the same terminal as `terminalFd`. Then stderr lines are shown like stdout
   * lines, colored, through `terminalFd` (one descriptor keeps them in order with the area);
   * else they go to `stderrFd` exactly as without the view (SPEC §3), e.g. `2>errors.txt`.
   */
  stderrIsTerminal: boolean;
  /** The terminal: the top level's stdout. Default 1. */
  terminalFd?: number;
  /** Where stderr lines go when it is not the terminal. Default 2. */
  stderrFd?: number;
  /** The clock, epoch milliseconds. Default Date.now. */
  now?: () => number;
  /** When the build started, epoch milliseconds. Default: now() when the view is made. */
  buildStart?: number;
  /** The terminal's size, read before each drawing. Default: process.stdout's (fd 1 only). */
  size?: () => TerminalSize;
  /** Writes a whole buffer to a descriptor. Default: write(2) until done (terminal.ts). */
  write?: (fd: number, bytes: Uint8Array) => void;
  /** Runs a function once after some milliseconds; returns its cancel. Default: an unref'd setTimeout. */
  timer?: (fn: () => void, ms: number) => () => void;
  /** Subscribes to resizes; returns the unsubscribe. Default: SIGWINCH. */
  watchResize?: (onResize: () => void) => () => void;
}

const encoder = new TextEncoder();

/** The live view of one build on one terminal. */
export class LiveView {
  private readonly progress: Progress;
  private readonly terminalFd: number;
  private readonly stderrFd: number;
  private readonly now: () => number;
  private readonly readSize: () => TerminalSize;
  private readonly write: (fd: number, bytes: Uint8Array) => void;
  private readonly timer: (fn: () => void, ms: number) => () => void;
  private readonly stopWatching: () => void;
  private size: TerminalSize;
  /** The last rendering of the area: its text and the display width of each line. */
  private area: { text: string; widths: number[] } | null = null;
  private renderedAt = -Infinity;
  /** A task started or ended since the last rendering. */
  private changed = false;
  /** The area on screen below the task lines: its rendering and the width it was drawn at. */
  private shown: { text: string; widths: number[]; columns: number } | null = null;
  private cancelTimer: (() => void) | null = null;
  private timerDue = Infinity;
  private closed = false;

  constructor(private readonly options: LiveViewOptions) {
    this.terminalFd = options.terminalFd ?? 1;
    this.stderrFd = options.stderrFd ?? 2;
    this.now = options.now ?? Date.now;
    this.readSize = options.size ?? stdoutSize;
    this.write = options.write ?? writeWhole;
    this.timer = options.timer ?? unrefTimer;
    this.progress = new Progress(options.buildStart ?? this.now());
    this.size = this.readSize();
    this.stopWatching = (options.watchResize ?? watchResize)(() => this.resize());
  }

  /** A task started; `id` tells apart two runs of one name. */
  taskStarted(id: string, name: string, logPath: string): void {
    this.progress.start(id, name, logPath, this.now());
    this.stateChanged();
  }

  /** A task ended; a failed one is named with its log in the summary. */
  taskEnded(id: string, result: TaskResult, logPath: string): void {
    this.progress.end(id, result, logPath);
    this.stateChanged();
  }

  /**
   * Shows one line of a task (`fd` the top-level stream it belongs to: 1 stdout, 2 stderr), above
   * the area. Lines need not come at all (quiet mode passes only failed tasks' lines).
   */
  line(fd: 1 | 2, line: ViewLine): void {
    if (fd === 2 && !this.options.stderrIsTerminal) {
      this.write(this.stderrFd, joinLine(terminalPrefix(line.timestamp, line.name, line.stream), line.bytes));
      return;
    }
    const colored = colorLine(line);
    const erase = this.erase();
    this.write(this.terminalFd, erase === "" ? colored : Buffer.concat([encoder.encode(erase), colored]));
    if (!this.closed) this.schedule(0);
  }

  /**
   * Shows a line that is already formatted (with its `\n`), as it is: one a nested executable
   * wrote to the build's descriptors whose prefix could not be read.
   */
  text(fd: 1 | 2, bytes: Uint8Array): void {
    if (fd === 2 && !this.options.stderrIsTerminal) {
      this.write(this.stderrFd, bytes);
      return;
    }
    const erase = this.erase();
    this.write(this.terminalFd, erase === "" ? bytes : Buffer.concat([encoder.encode(erase), bytes]));
    if (!this.closed) this.schedule(0);
  }

  /** The terminal was resized: re-read its size and redraw (also called on SIGWINCH). */
  resize(): void {
    this.paint();
  }

  /** Ends the view: the area is erased for good and the summary printed in its place. Idempotent. */
  close(success: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.stopWatching();
    const summary = summaryLines(this.progress, this.now(), success).map((l) => `${l}\n`).join("");
    this.write(this.terminalFd, encoder.encode(this.erase() + summary));
  }

  private stateChanged(): void {
    this.changed = true;
    if (!this.closed) this.schedule(Math.max(0, this.renderedAt + RENDER_INTERVAL_MS - this.now()));
  }

  /**
   * The sequence that erases the area on screen ("" if none), and forgets it. A terminal made
   * narrower since the area was drawn has reflowed (re-wrapped) its lines, as VTE, Konsole,
   * iTerm2, kitty, Windows Terminal and xterm.js do: a line then takes ceil(width / columns) rows.
   */
  private erase(): string {
    this.refreshSize();
    const shown = this.shown;
    this.shown = null;
    if (shown === null || shown.widths.length === 0) return "";
    const columns = this.size.columns;
    const narrower = columns < shown.columns;
    const rows = shown.widths.reduce((n, w) => n + (narrower ? Math.max(1, Math.ceil(w / columns)) : 1), 0);
    return `\r\x1b[${rows}A\x1b[J`;
  }

  /** Reads the terminal's size; a new size makes the area render anew. */
  private refreshSize(): void {
    const size = this.readSize();
    if (size.columns === this.size.columns && size.rows === this.size.rows) return;
    this.size = size;
    this.area = null;
  }

  /** Draws the area, rendered anew if it is stale and 100 ms have passed, and plans the next. */
  private paint(): void {
    if (this.closed) return;
    const now = this.now();
    this.refreshSize();
    const live = this.changed || this.progress.running.size > 0;
    const before = this.area;
    if (before === null || (live && now - this.renderedAt >= RENDER_INTERVAL_MS)) {
      const lines = statusLines(this.progress, this.size, now);
      this.area = { text: lines.map((l) => `${l}\n`).join(""), widths: lines.map(displayWidth) };
      this.renderedAt = now;
      this.changed = false;
    }
    const area = this.area!;
    // The same text already on screen at this width: leave the rows alone.
    const shown = this.shown;
    if (shown === null || shown.text !== area.text || shown.columns !== this.size.columns) {
      const bytes = encoder.encode(this.erase() + area.text);
      if (bytes.length > 0) this.write(this.terminalFd, bytes);
      this.shown = { ...area, columns: this.size.columns };
    }
    if (this.changed || this.progress.running.size > 0) this.schedule(Math.max(0, this.renderedAt + RENDER_INTERVAL_MS - now));
  }

  /** Plans a paint in `ms` milliseconds, unless one is planned sooner. */
  private schedule(ms: number): void {
    const due = this.now() + ms;
    if (this.cancelTimer !== null && this.timerDue <= due) return;
    this.cancelTimer?.();
    this.timerDue = due;
    this.cancelTimer = this.timer(() => {
      this.cancelTimer = null;
      this.timerDue = Infinity;
      this.paint();
    }, ms);
  }
}
