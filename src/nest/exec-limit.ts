// Whether the kernel would start the executable with a call's arguments and environment (pure);
// also whether it would start a task's bash, for the early snapshot decision (task/early-snapshot.ts).
// A caller whose environment holds a variable over 128 KiB, or whose arguments and environment
// together pass the limit the stack size sets, cannot start a nested executable: bash prints
// "Argument list too long" and the call's status is 126, with no task, log or lock. Served, the
// task's own start would fail instead, with another message and status; so such a call is left
// to the executable, to fail as it always did.
//
// The kernel's rules (fs/exec.c): each string, its NUL included, at most MAX_ARG_STRLEN (32
// pages); all strings and the pointers to them within a quarter of the stack's soft limit,
// at most three quarters of 8 MiB and at least 32 pages. Estimated from above: the strings as
// decoded here are never shorter in UTF-8 than the bytes bash passes (a byte that is not UTF-8
// became U+FFFD, three bytes), and SLACK covers the executable's path, which the kernel copies
// too, and rounding. Erring on that side only sends a call near the limit to the executable.

const PAGE = 4096;
const MAX_ARG_STRLEN = 32 * PAGE;
const SLACK = PAGE;

/** The room every stack size leaves (32 pages): what fits in it starts whatever the limits. */
export const LEAST_ARGUMENT_ROOM = 32 * PAGE;

/**
 * The room for argument and environment strings, in bytes, under a stack soft limit in bytes
 * (null: unlimited).
 */
export function argumentRoom(stackSoftLimit: number | null): number {
  const most = (8 * 1024 * 1024 * 3) / 4;
  return Math.max(LEAST_ARGUMENT_ROOM, stackSoftLimit === null ? most : Math.min(most, Math.floor(stackSoftLimit / 4)));
}

/** The stack's soft limit from a /proc/PID/limits text: bytes, null for unlimited or unknown. */
export function stackSoftLimit(limits: string): number | null {
  const line = /^Max stack size +(\S+)/m.exec(limits);
  return line === null || line[1] === "unlimited" ? null : Number(line[1]);
}

/** Whether `argv` (the program's name first) and `env` fit in `room` bytes (argumentRoom). */
export function execFits(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, room: number): boolean {
  // Each string, its NUL, and its pointer.
  let total = SLACK;
  const add = (s: string): boolean => {
    const n = Buffer.byteLength(s, "utf8") + 1;
    total += n + 8;
    return n <= MAX_ARG_STRLEN;
  };
  for (const a of argv) if (!add(a)) return false;
  for (const name in env) {
    const value = env[name];
    if (value !== undefined && !add(`${name}=${value}`)) return false;
  }
  return total <= room;
}
