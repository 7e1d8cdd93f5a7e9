// Questions about the repository beyond the input hash, asked by the remote cache (SPEC §5
// steps 5 and 7): are the inputs committed, which branch is this, where is the main branch;
// and by commit statuses (SPEC §7): which commit is checked out.
import { runGit } from "./run-git.ts";
import { type Result, ok, err } from "../result.ts";

type Env = Record<string, string | undefined>;

/** git commands as data (table-tested). */
export const repoCommands = {
  dirty: (pathspecs: string[]) => ({ args: ["status", "--porcelain", "--untracked-files=no", "--", ...pathspecs], tempIndex: false }),
  branch: () => ({ args: ["symbolic-ref", "--quiet", "--short", "HEAD"], tempIndex: false }),
  mergeBase: (mainBranch: string) => ({ args: ["merge-base", "HEAD", `origin/${mainBranch}`], tempIndex: false }),
  head: () => ({ args: ["rev-parse", "HEAD"], tempIndex: false }),
};

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8").trim();

/**
 * Whether tracked files under the pathspecs have uncommitted changes; an archive keyed by a
 * hash of uncommitted content must not be restored over them. A git failure counts as dirty.
 */
export async function hasUncommittedChanges(cwd: string, pathspecs: string[], env: Env): Promise<boolean> {
  if (pathspecs.length === 0) return false;
  const r = await runGit(repoCommands.dirty(pathspecs), cwd, env);
  return "spawnError" in r || r.code !== 0 || text(r.stdout) !== "";
}

/** The current branch, or null on a detached HEAD (or outside a repository). */
export async function currentBranch(cwd: string, env: Env): Promise<string | null> {
  const r = await runGit(repoCommands.branch(), cwd, env);
  if ("spawnError" in r || r.code !== 0) return null;
  return text(r.stdout) || null;
}

/** `git merge-base HEAD origin/<main>`, or null if it cannot be found. */
export async function mainBranchCommit(cwd: string, env: Env, mainBranch: string | null): Promise<string | null> {
  if (mainBranch === null) return null;
  const r = await runGit(repoCommands.mergeBase(mainBranch), cwd, env);
  if ("spawnError" in r || r.code !== 0) return null;
  return text(r.stdout) || null;
}

/** `git rev-parse HEAD`: the commit statuses are posted to, or why there is none. */
export async function headCommit(cwd: string, env: Env): Promise<Result<string>> {
  const r = await runGit(repoCommands.head(), cwd, env);
  if ("spawnError" in r) return err(r.spawnError.message);
  const sha = text(r.stdout);
  // 40 hex digits, or 64 in a SHA-256 repository.
  if (r.code === 0 && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) return ok(sha);
  // git's first line says what is wrong (an unborn HEAD: "ambiguous argument 'HEAD'"); the
  // rest is usage advice.
  const why = r.stderr.split("\n").find((l) => l.startsWith("fatal:"))?.trim() ?? "";
  return err(why === "" ? `exit code ${r.code}` : why);
}
