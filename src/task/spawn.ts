import { closeSync } from "../sys/fs.ts";
import { pipe } from "../sys/libc.ts";

/**
 * Descriptor numbers inside every task (SPEC §2, §5). Bun.spawn closes every descriptor not
 * listed in `stdio` (BUN-NOTES.md), so each level of nesting lists the top-level descriptors
 * at these same indexes again, and the numbers exported in the environment never change.
 */
export const CHILD_FD = { toplevelStdout: 3, toplevelStderr: 4, request: 5, response: 6 } as const;

/** A started task and the runner's ends of its pipes. */
export interface SpawnedTask {
  proc: Bun.Subprocess;
  /** Read ends of the task's stdout and stderr, and of the request pipe. */
  stdout: number;
  stderr: number;
  request: number;
  /** Write end of the response pipe. */
  response: number;
}

export interface SpawnOptions {
  command: string[];
  env: Record<string, string | undefined>;
  /** The task's working directory (a nested call's is its caller's). */
  cwd: string;
  toplevelStdout: number;
  toplevelStderr: number;
}

/**
 * Starts the task in a session of its own (so its whole process group can be signalled) with
 * stdin from /dev/null and REAL pipes for stdout and stderr: Bun's "pipe" is a socketpair, and
 * `echo x > /dev/stdout` fails on a socket. The write ends are closed here once the child has
 * them, so end-of-file means every holder has closed them.
 */
export function spawnTask(opts: SpawnOptions): SpawnedTask {
  const [outR, outW] = pipe();
  const [errR, errW] = pipe();
  const [reqR, reqW] = pipe();
  const [resR, resW] = pipe();
  const stdio = ["ignore", outW, errW, opts.toplevelStdout, opts.toplevelStderr, reqW, resR];
  let proc: Bun.Subprocess;
  try {
    proc = Bun.spawn(opts.command, {
      stdio: stdio as unknown as Bun.SpawnOptions.OptionsObject<"ignore", "ignore", "ignore">["stdio"],
      env: opts.env,
      cwd: opts.cwd,
      detached: true,
    });
  } catch (e) {
    for (const fd of [outR, outW, errR, errW, reqR, reqW, resR, resW]) closeSync(fd);
    throw e;
  }
  // The child has its copies; ours must go, or end-of-file would never come.
  for (const fd of [outW, errW, reqW, resR]) closeSync(fd);
  return { proc, stdout: outR, stderr: errR, request: reqR, response: resW };
}

/** Sends a signal to the task's whole process group; false if nothing was left to signal. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
