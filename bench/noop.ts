// No-op benchmark: the cached "nothing to do" path against floors measured in the same run.
// Run with `npm run bench` (builds first). Prints median wall times and ratios.
import { mkdtempSync, writeFileSync, rmSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const EXE = resolve(import.meta.dir, "../dist/taskrunner");
const RUNS = Number(process.env.BENCH_RUNS ?? 30);

const root = realpathSync(mkdtempSync(join(tmpdir(), "taskrunner-bench-")));
const repo = join(root, "repo");
const env: Record<string, string> = {
  PATH: `${resolve(EXE, "..")}:/usr/local/bin:/usr/bin:/bin`,
  HOME: root,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b",
  TASKRUNNER_STATE_DIRECTORY: join(root, "state"),
};

function sh(cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { cwd: repo, env, stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
}

Bun.spawnSync(["mkdir", "-p", repo]);
sh(["git", "init", "-q"]);
writeFileSync(join(repo, "input.txt"), "foo\n");
sh(["git", "add", "."]);
sh(["git", "commit", "-qm", "init"]);

/** Workloads: name and command; each is run RUNS times, interleaved, after a warm-up. */
const workloads: [string, string[]][] = [
  ["taskrunner no-op (W1)", [EXE, "-n", "t", "bash", "-c", "snapshot input.txt"]],
  ["bash -c 'git ls-files -s input.txt'", ["bash", "-c", "git ls-files -s input.txt"]],
  ["bash -c true", ["bash", "-c", "true"]],
  ["taskrunner --version (start-up)", [EXE, "--version"]],
];

function timeOnce(cmd: string[]): number {
  const t0 = Bun.nanoseconds();
  const r = Bun.spawnSync(cmd, { cwd: repo, env, stdout: "ignore", stderr: "ignore" });
  const t1 = Bun.nanoseconds();
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${r.exitCode}`);
  return (t1 - t0) / 1e6;
}

for (const [, cmd] of workloads) for (let i = 0; i < 3; i++) timeOnce(cmd); // warm-up (and the first hash)
const samples = workloads.map(() => [] as number[]);
for (let i = 0; i < RUNS; i++) workloads.forEach(([, cmd], w) => samples[w]!.push(timeOnce(cmd)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medians = samples.map(median);

const floor = medians[1]!;
console.log(`median of ${RUNS} interleaved runs\n`);
console.log(`${"workload".padEnd(40)} ${"median ms".padStart(10)} ${"vs git floor".padStart(13)}`);
workloads.forEach(([name], w) => {
  console.log(`${name.padEnd(40)} ${medians[w]!.toFixed(1).padStart(10)} ${(medians[w]! / floor).toFixed(2).padStart(12)}x`);
});
rmSync(root, { recursive: true, force: true });
