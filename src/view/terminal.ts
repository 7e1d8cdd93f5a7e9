// The live view's contact with the real terminal: writing whole buffers, the terminal's size,
// resize signals and timers that never hold the process up. Each is a default of LiveView's
// options, so tests replace all of them with fakes.
import { isatty } from "node:tty";
import { fstatSync, writeSync } from "../sys/fs.ts";
import type { TerminalSize } from "./status-area.ts";

/** The size assumed when the terminal does not tell (a size of 0 is as good as none). */
export const FALLBACK_SIZE: TerminalSize = { columns: 80, rows: 24 };

/**
 * Writes all of `bytes` to `fd`; one write(2) unless the kernel takes less. A terminal that went
 * away (EIO after a hang-up, EPIPE, EBADF) drops the output rather than stop the build, as
 * TaskOutput does; a descriptor another program made non-blocking (EAGAIN) is waited for.
 */
export function writeWhole(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  const deadline = Date.now() + 60_000;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EAGAIN" || Date.now() > deadline) {
        if (code === "EIO" || code === "EPIPE" || code === "EBADF" || code === "EAGAIN") return;
        throw e;
      }
      Bun.sleepSync(1);
    }
  }
}

/**
 * The size of the terminal on fd 1, as process.stdout reports it. Measured with Bun 1.4.5, also
 * in a `bun build --compile` executable: `columns` and `rows` are right at start and already
 * updated when a SIGWINCH handler runs, and reading them costs 0.02 µs (no ioctl per read).
 */
export function stdoutSize(): TerminalSize {
  const { columns, rows } = process.stdout;
  return columns > 0 && rows > 0 ? { columns, rows } : FALLBACK_SIZE;
}

/**
 * Whether descriptors `a` and `b` are the same terminal: both ttys and the same device node. Then
 * the view shows stderr lines too (LiveViewOptions.stderrIsTerminal); `2>file` or `2>&1 | less`
 * keep stderr as it is without the view.
 */
export function sameTerminal(a: number, b: number): boolean {
  if (!isatty(a) || !isatty(b)) return false;
  const [sa, sb] = [fstatSync(a), fstatSync(b)];
  return sa.dev === sb.dev && sa.ino === sb.ino;
}

/** Calls `handler` on each SIGWINCH (the terminal was resized); returns what stops it. */
export function watchResize(handler: () => void): () => void {
  process.on("SIGWINCH", handler);
  return () => process.off("SIGWINCH", handler);
}

/**
 * Runs `fn` once after `ms`, without keeping the process alive for it (the build decides when
 * the process ends, never the view's next redraw); returns what cancels it.
 */
export function unrefTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
