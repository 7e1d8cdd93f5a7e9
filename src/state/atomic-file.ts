import { mkdirSync, renameSync, unlinkSync, utimesSync, writeFileSync } from "../sys/fs.ts";
import { dirname } from "../sys/path.ts";

/**
 * Writes a file atomically: a temp file next to it, then rename. A crash leaves the old file or
 * the new one, never a half-written one (a half-written hash file could read as "fresh").
 * The parent directory is created only if the first write finds it missing, so the common
 * case costs no mkdir. Throws on I/O errors, after removing the temp file.
 */
export function writeFileAtomic(path: string, body: string | Uint8Array, options: { mode?: number; mtime?: Date } = {}): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const mode = options.mode ?? 0o666;
  try {
    try {
      writeFileSync(tmp, body, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(tmp, body, { mode });
    }
    if (options.mtime !== undefined) utimesSync(tmp, options.mtime, options.mtime);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written, or already renamed
    }
    throw e;
  }
}
