import { writeSync } from "../sys/fs.ts";
import { encodeRequest } from "../protocol/messages.ts";

/** How a finished task is described to its parent: Haskell's `ExitCode` rendering (SPEC §5). */
export function exitStatusText(code: number): string {
  return code === 0 ? "ExitSuccess" : `ExitFailure ${code}`;
}

/**
 * Sends `debug` requests to the parent task's request pipe, so the parent's log shows its
 * subtasks. Best effort: a parent that is gone or a descriptor that is not a pipe is ignored.
 */
export function tellParent(fd: number | null, ...texts: string[]): void {
  if (fd === null) return;
  try {
    // One write for all lines: they stay together in the parent's log, whatever runs in parallel.
    writeSync(fd, Buffer.concat(texts.map((text) => encodeRequest(["debug", text]))));
  } catch {
    // EPIPE/EBADF: nobody to tell.
  }
}
