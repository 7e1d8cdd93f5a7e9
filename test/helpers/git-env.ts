import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A temp root for in-process tests that run git, with a clean environment for it. */
export interface GitSandbox {
  root: string;
  /** Where hashInputs puts its temporary index. */
  tmp: string;
  /** PATH with git, HOME inside the root, no system config, discovery stopped at the root, a fixed identity. */
  env: Record<string, string>;
}

export function makeGitSandbox(prefix: string): GitSandbox {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const git = Bun.which("git") ?? "/usr/bin/git";
  return {
    root,
    tmp: join(root, "tmp"),
    env: {
      PATH: `${dirname(git)}:/usr/bin:/bin`,
      HOME: join(root, "home"),
      GIT_CONFIG_NOSYSTEM: "1",
      // Repository discovery must not climb out of the sandbox (if /tmp were inside a checkout).
      GIT_CEILING_DIRECTORIES: root,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
  };
}
