// A headless terminal for tests: feed it the bytes a program wrote to its terminal and read back
// the screen a person would see, as text rows and, for colors, cell by cell. Built on
// @xterm/headless (the xterm.js emulator without a renderer), so cursor movement, erasing,
// wide characters, wrapping and the reflow of a resize behave as in a real terminal.
//
//   const screen = new Screen({ cols: 80, rows: 24 });
//   await screen.write(bytes);
//   expect(screen.lines()).toEqual([...]);      // the visible rows, trailing blank rows dropped
//   expect(screen.fg(0, 0)).toEqual({ palette: 6 });
//
// Bytes captured through a pseudo-terminal (test/helpers/pty.ts) already have "\r\n" line ends,
// since the tty's ONLCR turns each "\n" into "\r\n". Bytes captured before any tty (a fake writer,
// a pipe) have bare "\n": pass `crlf: true` and the emulator does what ONLCR would.
import { Terminal } from "@xterm/headless";

/** How a screen is set up. */
export interface ScreenOptions {
  cols: number;
  rows: number;
  /** Treat "\n" as "\r\n" (the tty's ONLCR), for bytes that did not pass a tty. Default false. */
  crlf?: boolean;
  /** Rows kept above the screen. Default 1000. */
  scrollback?: number;
}

/** A cell's foreground color: the terminal's default, an entry of the 256-color palette, or RGB. */
export type Color = "default" | { palette: number } | { rgb: string };

/** What a cell shows. */
export interface Cell {
  /** The character ("" for the second cell of a wide character, " " for an empty one). */
  char: string;
  fg: Color;
  bold: boolean;
  dim: boolean;
}

/** A headless terminal and readers of its screen. */
export class Screen {
  readonly terminal: Terminal;

  constructor(options: ScreenOptions) {
    this.terminal = new Terminal({
      cols: options.cols,
      rows: options.rows,
      allowProposedApi: true,
      convertEol: options.crlf ?? false,
      scrollback: options.scrollback ?? 1000,
    });
  }

  /** Feeds bytes (or text) as if written to the terminal; resolves once they are parsed. */
  write(data: Uint8Array | string): Promise<void> {
    return new Promise((resolve) => this.terminal.write(data, resolve));
  }

  /** Resizes the terminal, which reflows its rows as a real terminal window does. */
  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
  }

  /** The visible rows as text, trailing spaces trimmed and trailing blank rows dropped. */
  lines(): string[] {
    const buffer = this.terminal.buffer.active;
    return trimBlankTail(range(this.terminal.rows).map((y) => buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? ""));
  }

  /** Every row, scrollback first, as `lines()` shows them. */
  allLines(): string[] {
    const buffer = this.terminal.buffer.active;
    return trimBlankTail(range(buffer.length).map((y) => buffer.getLine(y)?.translateToString(true) ?? ""));
  }

  /**
   * Every row, scrollback first, with rows that the terminal wrapped joined back into the line
   * that was written: what a program printed, whatever the width.
   */
  logicalLines(): string[] {
    const buffer = this.terminal.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      if (line === undefined) continue;
      const next = buffer.getLine(y + 1);
      // A row continued on the next one is full width: its trailing spaces are text, not padding.
      const text = line.translateToString(!(next?.isWrapped ?? false));
      if (line.isWrapped && out.length > 0) out[out.length - 1] += text;
      else out.push(text);
    }
    return trimBlankTail(out);
  }

  /** Which visible rows the terminal wrapped onto from the row above (a long line continues). */
  wrappedRows(): number[] {
    const buffer = this.terminal.buffer.active;
    return range(this.terminal.rows).filter((y) => buffer.getLine(buffer.viewportY + y)?.isWrapped ?? false);
  }

  /** The cell at column `x` of visible row `y` (both from 0). */
  cell(x: number, y: number): Cell {
    const buffer = this.terminal.buffer.active;
    const cell = buffer.getLine(buffer.viewportY + y)?.getCell(x);
    if (cell === undefined) throw new Error(`no cell at ${x},${y} on a ${this.terminal.cols}x${this.terminal.rows} screen`);
    const fg: Color = cell.isFgDefault()
      ? "default"
      : cell.isFgPalette()
        ? { palette: cell.getFgColor() }
        : { rgb: `#${cell.getFgColor().toString(16).padStart(6, "0")}` };
    return { char: cell.getChars() || (cell.getWidth() === 0 ? "" : " "), fg, bold: cell.isBold() !== 0, dim: cell.isDim() !== 0 };
  }

  /** The foreground color of a cell of the visible screen. */
  fg(x: number, y: number): Color {
    return this.cell(x, y).fg;
  }

  /** The cursor's position on the visible screen. */
  cursor(): { x: number; y: number } {
    const buffer = this.terminal.buffer.active;
    return { x: buffer.cursorX, y: buffer.cursorY };
  }

  /** Frees the emulator. */
  dispose(): void {
    this.terminal.dispose();
  }
}

/** Renders bytes on a fresh screen: the usual one-shot use. */
export async function renderScreen(data: Uint8Array | string, options: ScreenOptions): Promise<Screen> {
  const screen = new Screen(options);
  await screen.write(data);
  return screen;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function trimBlankTail(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1] === "") end--;
  return lines.slice(0, end);
}
