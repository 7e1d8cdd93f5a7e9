import { readFileOrNull } from "../sys/fs.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { writingState } from "./state-error.ts";

/** The exit code recorded for a task earlier in this build, or null (SPEC §2). */
export function readResult(path: string): number | null {
  const text = readFileOrNull(path, "utf8");
  if (text === null) return null;
  const code = Number(text.trim());
  return Number.isInteger(code) ? code : null;
}

/** Records a finished task's exit code for later invocations of the same name in this build. */
export function writeResult(path: string, code: number): void {
  writingState(path, "record the result in", () => writeFileAtomic(path, `${code}\n`));
}
