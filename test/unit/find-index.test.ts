// findIndex answers only where it is certain, and then exactly as `git rev-parse --git-path index`.
import { test, expect, afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findIndex } from "../../src/inputs/find-index.ts";

const ROOT = realpathSync(mkdtempSync(join(tmpdir(), "taskrunner-find-index-")));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
const ENV: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: ROOT,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CEILING_DIRECTORIES: ROOT,
  GIT_AUTHOR_NAME: "T", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "T", GIT_COMMITTER_EMAIL: "t@t",
};

function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd, env: ENV, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.toString().trim();
}
const gitIndex = (cwd: string) => resolve(cwd, git(cwd, "rev-parse", "--git-path", "index"));
const found = (cwd: string, env: Record<string, string> = ENV) => findIndex(cwd, env)?.toString() ?? null;

const repo = join(ROOT, "repo");
mkdirSync(join(repo, "a/b"), { recursive: true });
git(repo, "init", "-q");
writeFileSync(join(repo, "a/b/f"), "f\n");
git(repo, "add", ".");
git(repo, "commit", "-qm", "c");
git(repo, "worktree", "add", "-q", join(ROOT, "wt"));
mkdirSync(join(ROOT, "wt/a/b/c"), { recursive: true });

test.each([
  ["the top of a repository", repo],
  ["a subdirectory", join(repo, "a/b")],
  ["a linked work tree", join(ROOT, "wt")],
  ["a subdirectory of a linked work tree", join(ROOT, "wt/a/b/c")],
])("%s: the same index as git's", (_, cwd) => {
  expect(resolve(found(cwd)!)).toBe(gitIndex(cwd));
});

test.each([
  ["GIT_DIR set", repo, { GIT_DIR: join(repo, ".git") }],
  ["GIT_INDEX_FILE set", repo, { GIT_INDEX_FILE: join(repo, ".git/index") }],
  ["GIT_WORK_TREE set", repo, { GIT_WORK_TREE: repo }],
  ["inside .git", join(repo, ".git/refs"), {}],
  ["the .git directory itself", join(repo, ".git"), {}],
  ["outside any repository", ROOT, {}],
  ["a directory that does not exist", join(repo, "nope"), {}],
])("%s: left to git", (_, cwd, extra) => {
  expect(found(cwd, { ...ENV, ...extra })).toBeNull();
});

test("a bare repository, and a ceiling between cwd and the repository: left to git", () => {
  const bare = join(ROOT, "bare.git");
  Bun.spawnSync(["git", "init", "-q", "--bare", bare], { env: ENV });
  mkdirSync(join(bare, "x"), { recursive: true });
  expect(found(bare)).toBeNull();
  expect(found(join(bare, "x"))).toBeNull();
  expect(found(join(repo, "a/b"), { ...ENV, GIT_CEILING_DIRECTORIES: join(repo, "a") })).toBeNull();
  expect(found(join(repo, "a/b"), { ...ENV, GIT_CEILING_DIRECTORIES: `${join(repo, "a")}/` })).toBeNull();
  // A ceiling equal to cwd does not stop git from looking in cwd itself.
  expect(found(repo, { ...ENV, GIT_CEILING_DIRECTORIES: repo })).toBe(join(repo, ".git/index"));
});
