import { lstatSync } from "../sys/fs.ts";

/**
 * The declared outputs that are not on disk. lstat, not stat: a symlink output is archived as
 * a link and counts as present even if it dangles.
 */
export function missingOutputs<T>(outputs: T[], pathOf: (output: T) => string): T[] {
  return outputs.filter((o) => {
    try {
      lstatSync(pathOf(o));
      return false;
    } catch {
      return true;
    }
  });
}
