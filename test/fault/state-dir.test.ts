// Fault tests: a state directory that cannot be written (SPEC §8, issue: full disk, read-only
// file system). The state directory is a small tmpfs mounted in a mount namespace of the test's
// own (unshare), so nothing outside the test sees it and it is gone when the test ends.
import { test, expect, afterEach } from "bun:test";
import { join } from "node:path";
import { CRASH, Fault, exitOf } from "./helpers.ts";

let f: Fault | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

/**
 * Runs `script` with bash in a private mount namespace where $STATE is a 1 MiB tmpfs: as root
 * directly, otherwise as root of a new user namespace. The script's stdout and stderr are
 * returned together, in order.
 */
async function inMountNamespace(fault: Fault, script: string): Promise<{ output: string; code: number | null }> {
  const unshare = process.getuid?.() === 0 ? ["unshare", "--mount", "--propagation", "private"] : ["unshare", "--user", "--map-root-user", "--mount"];
  const setup = `set -e; mkdir -p "$STATE"; mount -t tmpfs -o size=1m tmpfs "$STATE"; set +e\n`;
  const s = fault.start([...unshare, "bash", "-c", `exec 2>&1\n${setup}${script}`], { STATE: fault.box.state, TASKRUNNER_LOG_INFO: "1" });
  const { code } = await exitOf(s, 30_000, "the script in the mount namespace");
  return { output: s.stdout.text, code };
}

/** Bash that runs the task once, changes its input, makes the state directory unwritable (`spoil`) and runs it again. */
const script = (spoil: string) => `run() { taskrunner -n t bash -c 'snapshot input.txt; echo built'; }
run; echo "first rc=$?"
echo changed > input.txt
${spoil}
run; echo "second rc=$?"
cat "$STATE/hash/t.hash"; echo`;
const SAVED_HASH = '{"hash":"6b36308659163b577fd1c832107dc46ca3aa659b","hashInput":"100644 blob 257cc5642cb1a054f08cc83f2d943e56fd3ebe99\\tinput.txt","mainBranchCommit":null}';

test("full disk: one error naming the file and the operation, exit 1, the saved hash intact", async () => {
  f = new Fault("state-full");
  f.write("input.txt", "foo\n");
  const { output, code } = await inMountNamespace(
    f,
    script(`dd if=/dev/zero of="$STATE/filler" bs=4096 2>/dev/null; echo "disk full"`),
  );
  expect(CRASH.test(output)).toBe(false);
  const log = /(\/\S*\/builds\/\S*\/logs\/t\.log)/.exec(output)?.[1] ?? "(no log path in the output)";
  expect(log.startsWith(join(f.box.state, "builds"))).toBe(true);
  expect(output).toBe(
    [
      "[t] info | Inputs changed, running task",
      "[t] stdout | built",
      "[t] info | success",
      "first rc=0",
      "disk full",
      "[t] info | Inputs changed, running task",
      "[t] stdout | built",
      `[t] error | cannot write the log ${log}: no space left on device (ENOSPC); free space on that file system or make it writable, or set TASKRUNNER_STATE_DIRECTORY to a writable directory`,
      "second rc=1",
      SAVED_HASH,
      "",
    ].join("\n"),
  );
  expect(code).toBe(0);
});

test("read-only state directory: one error naming the lock file, exit 1, the saved hash intact", async () => {
  f = new Fault("state-ro");
  f.write("input.txt", "foo\n");
  const { output, code } = await inMountNamespace(
    f,
    script(`mount -o remount,ro "$STATE"; echo "read-only"`),
  );
  expect(output).toBe(
    [
      "[t] info | Inputs changed, running task",
      "[t] stdout | built",
      "[t] info | success",
      "first rc=0",
      "read-only",
      `taskrunner: cannot open the lock file ${join(f.box.state, "locks", "t.lock")}: read-only file system (EROFS); free space on that file system or make it writable, or set TASKRUNNER_STATE_DIRECTORY to a writable directory`,
      "second rc=1",
      SAVED_HASH,
      "",
    ].join("\n"),
  );
  expect(code).toBe(0);
});
