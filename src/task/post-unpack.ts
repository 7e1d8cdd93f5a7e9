import { closeSync } from "../sys/fs.ts";
import { pipe } from "../sys/libc.ts";
import { readLines } from "./streams.ts";

/**
 * Runs a post-unpack command (`snapshot --outputs ... --cmd C`) with `sh -c` in the runner's
 * directory. Its stdout and stderr share one pipe, so its lines keep their order; each line is
 * passed to `onLine` (the caller shows them as the task's `stderr`). Returns the exit code.
 */
export async function runPostUnpack(command: string, cwd: string, env: Record<string, string | undefined>, onLine: (line: Uint8Array) => void): Promise<number> {
  const [r, w] = pipe();
  let proc: Bun.Subprocess;
  try {
    proc = Bun.spawn(["sh", "-c", command], { cwd, env, stdio: ["ignore", w, w] });
  } finally {
    closeSync(w);
  }
  const lines = readLines(r, onLine);
  const code = await proc.exited;
  await lines.done;
  return code;
}
