import type { GitCommand } from "./git-commands.ts";

/** What a git process printed and how it ended. */
export interface GitOutput {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs git; a failure to start it (no git on PATH, missing directory) is returned, not thrown. */
export async function runGit(cmd: GitCommand, cwd: string, env: Record<string, string | undefined>): Promise<GitOutput | { spawnError: Error }> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(["git", ...cmd.args], { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    return { spawnError: e as Error };
  }
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout: new Uint8Array(stdout), stderr };
}
