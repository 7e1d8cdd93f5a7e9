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
  };
}

/**
 * The request pipe at descriptor `fd` of process `pid`: the parent of a nested call served in
 * this process, whose caller (a bash in the parent's task) holds the pipe. The pipe is reopened
 * through /proc for each message, so the message reaches the same pipe a nested executable
 * started by that caller would have written to. Non-blocking: the open fails at once when the
 * parent no longer reads (ENXIO), and a full pipe drops the message rather than stall this
 * process, which may be the very reader of that pipe.
 */
export function procParent(pid: number, fd: number): ParentChannel {
  const path = `/proc/${pid}/fd/${fd}`;
  return {
    tell(...texts) {
      try {
        const out = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
        try {
          // Only a pipe: reopening a regular file would write at its start, not where fd N is.
          if (fstatSync(out).isFIFO()) writeSync(out, encode(texts));
        } finally {
          closeSync(out);
        }
      } catch {
        // The caller or its parent is gone, or the pipe is full: nobody to tell.
      }
    },
  };
}
