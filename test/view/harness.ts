// A LiveView on a fake terminal: a clock and timers the test advances, a size it sets, and a
// writer that keeps every write, whose terminal bytes are fed to a headless xterm (screen.ts).
// So a test scripts a build step by step and reads the exact screen a person would see.
import { LiveView } from "../../src/view/live-view.ts";
import type { TerminalSize } from "../../src/view/status-area.ts";
import type { ViewLine } from "../../src/view/colors.ts";
import type { StreamWord } from "../../src/output/format.ts";
import { Screen } from "../helpers/screen.ts";

/** Epoch milliseconds the fake clock starts at. */
export const T0 = 1_700_000_000_000;

interface Timer {
  due: number;
  fn: () => void;
  cancelled: boolean;
}

/** One write the view made. */
export interface Write {
  fd: number;
  bytes: Uint8Array;
}

/** A fake terminal driving a real LiveView. */
export class FakeTerminal {
  now = T0;
  size: TerminalSize;
  readonly writes: Write[] = [];
  readonly view: LiveView;
  readonly screen: Screen;
  private timers: Timer[] = [];
  private fed = 0;
  resizeWatchers = 0;

  constructor(options: { cols: number; rows: number; stderrIsTerminal?: boolean }) {
    this.size = { columns: options.cols, rows: options.rows };
    this.screen = new Screen({ cols: options.cols, rows: options.rows, crlf: true });
    this.view = new LiveView({
      stderrIsTerminal: options.stderrIsTerminal ?? true,
      terminalFd: 1,
      stderrFd: 2,
      now: () => this.now,
      size: () => this.size,
      write: (fd, bytes) => this.writes.push({ fd, bytes: Uint8Array.from(bytes) }),
      timer: (fn, ms) => {
        const timer = { due: this.now + ms, fn, cancelled: false };
        this.timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
      watchResize: () => {
        this.resizeWatchers++;
        return () => this.resizeWatchers--;
      },
    });
  }

  /** Moves the clock on by `ms`, running each timer that falls due, in order, at its time. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled && t.due <= end).sort((a, b) => a.due - b.due)[0];
      if (next === undefined) break;
      next.cancelled = true;
      this.now = Math.max(this.now, next.due);
      next.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.now = end;
  }

  /** Timers not yet run or cancelled. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** A task's line, as the integrator passes it (fd from the stream word, as format.ts targetStream). */
  line(name: string, stream: StreamWord, text: string | Uint8Array, timestamp = ""): void {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    const line: ViewLine = { timestamp, name, stream, bytes };
    this.view.line(stream === "stdout" ? 1 : 2, line);
  }

  /** Feeds what the view wrote to the terminal since the last call into the screen. */
  async sync(): Promise<Screen> {
    for (; this.fed < this.writes.length; this.fed++) {
      const w = this.writes[this.fed]!;
      if (w.fd === 1) await this.screen.write(w.bytes);
    }
    return this.screen;
  }

  /** The visible screen's rows (trailing blank rows dropped). */
  async lines(): Promise<string[]> {
    return (await this.sync()).lines();
  }

  /** The window is resized: the terminal reflows at once; the view learns of it from `size` (and SIGWINCH). */
  async resizeTerminal(cols: number, rows: number): Promise<void> {
    await this.sync();
    this.screen.resize(cols, rows);
    this.size = { columns: cols, rows };
  }

  /** Everything written to a descriptor other than the terminal, as text. */
  textOf(fd: number): string {
    return this.writes.filter((w) => w.fd === fd).map((w) => new TextDecoder().decode(w.bytes)).join("");
  }
}
