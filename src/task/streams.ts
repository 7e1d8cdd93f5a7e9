import { closeSync } from "../sys/fs.ts";
import { LineSplitter } from "../output/lines.ts";

/** A descriptor being read line by line until end-of-file or until it is abandoned. */
export interface LineReader {
  /** Resolves at end-of-file (after the last line was delivered). */
  done: Promise<void>;
  /** Stops reading; lines not yet read are lost (used when a leaked descriptor keeps it open). */
  abandon(): void;
}

/**
 * Reads `fd` (a pipe's read end) and calls `onLine` with each line's bytes, the last line
 * without a newline included. Bun.file(fd).stream() is the reader that works on pipe
 * descriptors (BUN-NOTES.md); it does not close the descriptor, so this does, once.
 */
export function readLines(fd: number, onLine: (line: Uint8Array) => void): LineReader {
  const reader = Bun.file(fd).stream().getReader();
  const splitter = new LineSplitter();
  let abandoned = false;
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    try { closeSync(fd); } catch { /* already closed */ }
  };
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || abandoned) break;
        for (const line of splitter.push(value)) onLine(line);
      }
    } catch {
      // A read error ends the stream like end-of-file; nothing more can come from it.
    }
    if (abandoned) return;
    close();
    const last = splitter.end();
    if (last !== null) onLine(last);
  })();
  return {
    done,
    abandon() {
      abandoned = true;
      reader.cancel().then(close, close);
    },
  };
}

/**
 * Waits for `p` at most `ms` milliseconds; true if it settled in time. When the deadline
 * passes, `p` gets one more short wait (GRACE_MS) before it counts as late: the deadline may
 * have passed while the event loop was busy elsewhere (the top level serves many tasks; one
 * task's synchronous work, a large stat walk, holds up the others'), and what happened
 * meanwhile, such as an end-of-file waiting in a pipe, is only seen once the loop turns again.
 * Measured without it: a pipe closed before a 60 ms stall counted as not closed within 20 ms in
 * 10 of 20 runs, its last lines dropped.
 */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return (await settlesIn(p, ms)) || settlesIn(p, GRACE_MS);
}

const GRACE_MS = 100;

async function settlesIn(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([p.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}
