import { closeSync, constants, fstatSync, openSync, writeSync } from "../sys/fs.ts";
import { encodeRequest } from "../protocol/messages.ts";

/** How a finished task is described to its parent: Haskell's `ExitCode` rendering (SPEC §5). */
export function exitStatusText(code: number): string {
  return code === 0 ? "ExitSuccess" : `ExitFailure ${code}`;
}

/**
 * The parent task's request pipe, where a nested invocation sends `debug` requests so that the
 * parent's log shows its subtasks (SPEC §5). Best effort: a parent that is gone, or a descriptor
 * that is not a pipe, is ignored.
 */
export interface ParentChannel {
  /** Sends one `debug` request per text, all in one write: they stay together in the parent's log. */
  tell(...texts: string[]): void;
  /** Lets go of what telling holds (the invocation has said all it will). */
  close(): void;
}

function encode(texts: string[]): Buffer {
  return Buffer.concat(texts.map((text) => encodeRequest(["debug", text])));
}

/** The request pipe at descriptor `fd` of this process: a nested executable's parent. */
export function pipeParent(fd: number): ParentChannel {
  return {
    tell(...texts) {
      try {
        writeSync(fd, encode(texts));
      } catch {
        // EPIPE/EBADF: nobody to tell.
      }
    },
    close() {},
  };
}

/**
 * The request pipe at descriptor `fd` of process `pid`: the parent of a nested call served in
 * this process, whose caller (a bash in the parent's task) holds the pipe. The pipe is reopened
 * through /proc, so messages reach the same pipe a nested executable started by that caller
 * would have written to; it is opened on the first message and kept until `close`. Non-blocking:
 * the open fails at once when the parent no longer reads (ENXIO), and a full pipe drops the
 * message rather than stall this process, which may be the very reader of that pipe.
 */
export function procParent(pid: number, fd: number): ParentChannel {
  let out: number | null | undefined;
  const opened = (): number | null => {
    if (out !== undefined) return out;
    try {
      out = openSync(`/proc/${pid}/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
      // Only a pipe: reopening a regular file would write at its start, not where fd N is.
      if (!fstatSync(out).isFIFO()) {
        closeSync(out);
        out = null;
      }
    } catch {
      out = null;
    }
    return out;
  };
  return {
    tell(...texts) {
      const pipe = opened();
      if (pipe === null) return;
      try {
        writeSync(pipe, encode(texts));
      } catch {
        // The parent is gone, or the pipe is full: nobody to tell.
      }
    },
    close() {
      if (typeof out === "number") closeSync(out);
      out = null;
    },
  };
}
