// The state directory (locks, hashes, logs, results) is the runner's own: if it cannot be
// written (full disk, read-only file system, no permission), the build cannot be trusted to
// skip correctly later. Such a failure is one error naming the file and what was being done,
// never a bare errno text, and the task it happened in fails with exit code 1.

/** A file of the state directory could not be written. */
export class StateWriteError extends Error {
  constructor(
    /** The file (or directory) that could not be written. */
    readonly path: string,
    /** What was being done, as a verb phrase: "save the hash", "write the log". */
    readonly operation: string,
    cause: unknown,
  ) {
    super(`cannot ${operation} ${path}: ${describeCause(cause)}; free space on that file system or make it writable, or set TASKRUNNER_STATE_DIRECTORY to a writable directory`, { cause });
  }
}

/** Runs `write`, turning what it throws into a {@link StateWriteError} for `path`. */
export function writingState<T>(path: string, operation: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw e instanceof StateWriteError ? e : new StateWriteError(path, operation, e);
  }
}

/** "no space left on device (ENOSPC)" from node:fs's "ENOSPC: no space left on device, write". */
export function describeCause(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const m = /^([A-Z][A-Z0-9]+): ([^,]+)/.exec(message);
  return m === null ? message : `${m[2]} (${m[1]})`;
}
