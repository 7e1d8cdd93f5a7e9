import { readFileOrNull } from "../sys/fs.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { writingState } from "./state-error.ts";

/** The saved state of a task: `hash/<name>.hash` (SPEC §5, step 3). */
export interface SavedState {
  hash: string;
  hashInput: string;
  mainBranchCommit: string | null;
}

/** Reads the saved state; a missing, unreadable or malformed file counts as "no hash". */
export function readSavedState(path: string): SavedState | null {
  const text = readFileOrNull(path, "utf8");
  if (text === null) return null;
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
 * Only the saved hash, which is all a skip needs: a file in the layout writeSavedState writes
 * (`{"hash":…,"hashInput":…,"mainBranchCommit":…}`, in this order) is not
 * parsed whole (its hashInput lists every input file: 700 KB and 2 ms of JSON.parse for 10,000
 * files). Files are replaced atomically, so one that starts and ends as written was written
 * whole. Any other file (another writer's key order, damage) is read by readSavedState.
 */
export function readSavedHash(path: string): string | null {
  const text = readFileOrNull(path, "latin1");
  if (text === null) return null;
  const head = /^\{"hash":"([0-9a-f]{40}|[0-9a-f]{64})","hashInput":"/.exec(text);
  const tail = /","mainBranchCommit":(null|"[0-9a-f]{40}"|"[0-9a-f]{64}")\}$/.test(text.slice(-90));
  if (head !== null && tail) return head[1]!;
  return readSavedState(path)?.hash ?? null;
}

/**
 * Saves the state atomically: a crash leaves either the old file or the new one, never a
 * half-written file that could be read as a "fresh" hash.
 */
export function writeSavedState(path: string, state: SavedState): void {
  const body = JSON.stringify({ hash: state.hash, hashInput: state.hashInput, mainBranchCommit: state.mainBranchCommit });
  writingState(path, "save the hash to", () => writeFileAtomic(path, body));
}
