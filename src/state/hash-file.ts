import { readFileSync, writeFileSync, renameSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";

/** The saved state of a task: `hash/<name>.hash` (SPEC §5, step 3). */
export interface SavedState {
  hash: string;
  hashInput: string;
  mainBranchCommit: string | null;
}

/** Reads the saved state; a missing, unreadable or malformed file counts as "no hash". */
export function readSavedState(path: string): SavedState | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.hash !== "string" || typeof v.hashInput !== "string") return null;
    const main = typeof v.mainBranchCommit === "string" ? v.mainBranchCommit : null;
    return { hash: v.hash, hashInput: v.hashInput, mainBranchCommit: main };
  } catch {
    return null;
  }
}

/**
 * Saves the state atomically: a crash leaves either the old file or the new one, never a
 * half-written file that could be read as a "fresh" hash.
 */
export function writeSavedState(path: string, state: SavedState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const body = JSON.stringify({ hash: state.hash, hashInput: state.hashInput, mainBranchCommit: state.mainBranchCommit });
  try {
    writeFileSync(tmp, body);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, body);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}
