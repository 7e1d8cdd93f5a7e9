import { mkdirSync, readFileOrNull, writeFileSync } from "../sys/fs.ts";
import { dirname } from "../sys/path.ts";

// Optional subsystems (remote cache, commit statuses) turn themselves off for the rest of a
// build after their first service failure, so an outage costs one timeout per build, not one
// per task. The marker is a file in builds/<build>/ holding the reason.

/** The reason a subsystem was turned off earlier in this build, or null. */
export function readOffMarker(path: string): string | null {
  return readFileOrNull(path, "utf8")?.trim() ?? null;
}

/** Records that a subsystem is off for the rest of the build; best effort. */
export function writeOffMarker(path: string, reason: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${reason}\n`);
  } catch {
    // Only spares later tasks the same timeout.
  }
}
