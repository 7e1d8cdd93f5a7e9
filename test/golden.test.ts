// Golden end-to-end cases: test/t/NAME.txt is a bash script, NAME.out its expected output
// (stdout and stderr together, in the order written). Each case runs through the compiled
// executable with real bash and git, in a fresh sandbox with a clean environment.
//
// Directives (comment lines at the top of the script):
//   # no-toplevel          run the script with plain bash, not under `taskrunner -n toplevel`
//   # quiet                TASKRUNNER_QUIET=1
//   # no-info              do not set TASKRUNNER_LOG_INFO=1
//   # env: K=V             an extra environment variable (repeatable)
//   # check-files: P...    after the run, print these files (globs allowed; relative to the
//                          sandbox root: work/..., state/...)
//   # s3                   a fresh bucket on a local s3rver; the TASKRUNNER_S3_* settings point at
//                          it and an `s3` command (test/helpers/s3-cli.ts) inspects it
//   # s3: MODE             a faulty endpoint instead: refuse, hang, 500, 500-on-put
//   # github               a fake GitHub API (test/helpers/fake-github.ts) for this case: commit
//                          statuses are enabled and the GITHUB_* settings point at it, a
//                          `github-fake` command steers it, and the calls it got are appended
//                          under `--- github calls`. Options (`# github: OPT...`): key=pipes (the
//                          private key with | for newlines), token-lifetime=S (real lifetime of
//                          tokens, default 3600), reported-lifetime=S (what expires_at says,
//                          default the real one), sort (sort the calls: parallel tasks).
//                          No token, JWT or private key may appear in the output or in any file
//                          but the token cache; the case fails with `!!! leaked` if one does.
// The script starts in work/, a git repo with no commits; $STATE is the state directory.
// Paths under the sandbox are shown as $ROOT, build ids in paths as BUILD. UPDATE_GOLDEN=1 rewrites the .out files.
//
// Which cases, and through what:
//   GOLDEN_ONLY="a b ..."    run only these cases (names separated by spaces or commas; a name
//                            with no case is an error, so a renamed case is not dropped silently)
//   TASKRUNNER_TEST_EXE=P    run the cases through P instead of dist/taskrunner. P must be called
//                            `taskrunner`, since tasks start nested runs by that name from PATH
//                            (P's folder comes first there): a symlink, or a wrapper script such as
//                            `exec /usr/bin/qemu-aarch64-static dist/taskrunner-linux-arm64 "$@"`,
//                            as .ci/run does for the arm64 release. Pass `bun test --timeout` with
//                            room for an emulator: a case then takes seconds, not a fraction of one.
import { goldenCases, NESTING } from "./helpers/golden.ts";

// Nested calls served by the top-level runner; test/golden-executable.test.ts runs the same
// cases with nested calls through the executable.
goldenCases(NESTING.served);
