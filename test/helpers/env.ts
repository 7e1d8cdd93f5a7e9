import { mkdtempSync, mkdirSync, writeFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/**
 * The compiled executable under test: `dist/taskrunner` (built by `npm test` before `bun test`
 * runs), or `TASKRUNNER_TEST_EXE`, e.g. a wrapper that runs the arm64 release under qemu.
 */
export const EXE = testedExecutable(process.env.TASKRUNNER_TEST_EXE);
/** The folder holding the executable, put first on PATH in tests. */
export const EXE_DIR = dirname(EXE);

function testedExecutable(given: string | undefined): string {
  if (given === undefined || given === "") return resolve(import.meta.dir, "../../dist/taskrunner");
  // Tasks start nested runs as `taskrunner` from PATH, where EXE_DIR comes first: any other
  // name there would silently test dist/taskrunner or whatever else PATH holds.
  if (basename(given) !== "taskrunner") {
    throw new Error(`TASKRUNNER_TEST_EXE must name a file called taskrunner (a symlink or a wrapper script), not ${JSON.stringify(given)}`);
  }
  return resolve(given);
}

/** A fresh sandbox: a temp dir with a HOME holding a git config, a state dir and a work dir. */
export interface Sandbox {
  root: string;
  home: string;
  state: string;
  work: string;
  /** A clean environment: nothing from the developer's shell leaks into a case. */
  env: Record<string, string>;
}

/** Makes a sandbox; `work` is an empty directory (not yet a git repo). */
export function makeSandbox(prefix = "taskrunner-test-"): Sandbox {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const home = join(root, "home");
  const state = join(root, "state");
  const work = join(root, "work");
  for (const d of [home, work]) mkdirSync(d, { recursive: true });
  writeFileSync(
    join(home, ".gitconfig"),
    "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
  );
  const env: Record<string, string> = {
    PATH: `${EXE_DIR}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    TMPDIR: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    TASKRUNNER_STATE_DIRECTORY: state,
    TASKRUNNER_DISABLE_TIMESTAMPS: "1",
  };
  return { root, home, state, work, env };
}
