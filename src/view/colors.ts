// Colored task lines for the live view. Each task name gets a color of its own, chosen from a
// hash of the name, so `[gen]` has the same color in every build and on every machine; the
// stream words `error` and `warn` stand out in red and yellow; timestamps are dim. Stripped of
// its color sequences, a line is exactly the line taskrunner prints without the view
// (format.ts `terminalPrefix` + bytes + newline): the task's bytes are never decoded or changed.
import picocolors from "picocolors";
import type { StreamWord } from "../output/format.ts";

/**
 * Always colored: whether to color at all is decided by whoever creates the view (SPEC §3:
 * terminal, TERM, CI, NO_COLOR, the setting), never by picocolors' own sniffing of the
 * environment and of process.stdout.
 */
export const paint = picocolors.createColors(true);

/** Wraps text in one color's or style's escape sequences. */
export type Formatter = typeof paint.red;

/**
 * Name colors: the six ANSI hues but red (errors) and their bright forms but bright red;
 * blue on a dark background is hard to read, so only bright blue. Nine colors, all readable on
 * dark and light themes, which map these sixteen palette entries to legible shades. Black,
 * white and gray vanish on one theme or the other. The order is part of the interface: moving
 * an entry recolors the tasks of every user.
 */
export const NAME_PALETTE: readonly Formatter[] = [
  paint.cyan,
  paint.green,
  paint.yellow,
  paint.magenta,
  paint.blueBright,
  paint.cyanBright,
  paint.greenBright,
  paint.yellowBright,
  paint.magentaBright,
];

const encoder = new TextEncoder();

/**
 * FNV-1a (32 bit) of the name's UTF-8 bytes: tiny, stable across runtimes and versions (unlike
 * a runtime's string hash), and it spreads short, similar names (`test-1`, `test-2`) apart.
 */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Index into NAME_PALETTE of a task name's color; the same for a name in every build. */
export function nameColorIndex(name: string): number {
  return fnv1a(name) % NAME_PALETTE.length;
}

/** The formatter that paints text in a task name's color. */
export function nameColor(name: string): Formatter {
  return NAME_PALETTE[nameColorIndex(name)]!;
}

/** The stream word as shown: `error` red, `warn` yellow, the others plain. */
function colorStream(stream: StreamWord): string {
  switch (stream) {
    case "error":
      return paint.red(stream);
    case "warn":
      return paint.yellow(stream);
    case "stdout":
    case "stderr":
    case "info":
    case "debug":
      return stream;
    default: {
      const never: never = stream;
      return never;
    }
  }
}

/** One line of a task as the view receives it: the parts of format.ts `terminalPrefix`, and the bytes. */
export interface ViewLine {
  /** `HH:MM:SS ` or empty (timestamps off). */
  timestamp: string;
  name: string;
  stream: StreamWord;
  /** The line's bytes without the newline: possibly invalid UTF-8, passed through untouched. */
  bytes: Uint8Array;
}

const ESC = 0x1b;
const RESET = encoder.encode("\x1b[0m");

/** The colored prefix of a line: dim timestamp, `[name]` in the name's color, the stream word. */
export function coloredPrefix(line: Omit<ViewLine, "bytes">): string {
  // The timestamp's trailing space stays outside the dim sequence: its bytes are what they were.
  const time = line.timestamp === "" ? "" : `${paint.dim(line.timestamp.trimEnd())}${line.timestamp.slice(line.timestamp.trimEnd().length)}`;
  const name = nameColor(line.name)(`[${line.name}]`);
  return `${time}${name} ${colorStream(line.stream)} | `;
}

/**
 * The colored line, newline included, as one buffer for one write. A line whose bytes hold an
 * escape (a compiler's own colors) gets a reset after them, so a color it leaves open does not
 * bleed into the next task's prefix or the status area; stripped, the reset is gone too.
 */
export function colorLine(line: ViewLine): Uint8Array {
  const head = encoder.encode(coloredPrefix(line));
  const tail = line.bytes.includes(ESC) ? RESET : new Uint8Array(0);
  const out = new Uint8Array(head.length + line.bytes.length + tail.length + 1);
  out.set(head, 0);
  out.set(line.bytes, head.length);
  out.set(tail, head.length + line.bytes.length);
  out[out.length - 1] = 10;
  return out;
}
