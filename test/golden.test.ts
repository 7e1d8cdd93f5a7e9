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
// The script starts in work/, a git repo with no commits; $STATE is the state directory.
// Paths under the sandbox are shown as $ROOT. UPDATE_GOLDEN=1 rewrites the .out files.
import { test, expect } from "bun:test";
import { readdirSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { join, basename } from "node:path";
import { EXE, makeSandbox } from "./helpers/env.ts";

const DIR = join(import.meta.dir, "t");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const only = process.env.GOLDEN_ONLY;

interface Directives {
  toplevel: boolean;
  quiet: boolean;
  info: boolean;
  env: Record<string, string>;
  checkFiles: string[];
}

function readDirectives(script: string): Directives {
  const d: Directives = { toplevel: true, quiet: false, info: true, env: {}, checkFiles: [] };
  for (const line of script.split("\n")) {
    if (!line.startsWith("#")) break;
    const m = /^#\s*([a-z-]+)(?::\s*(.*))?$/.exec(line);
    if (!m) continue;
    const [, key, value = ""] = m;
    if (key === "no-toplevel") d.toplevel = false;
    else if (key === "quiet") d.quiet = true;
    else if (key === "no-info") d.info = false;
    else if (key === "env") {
      const eq = value.indexOf("=");
      d.env[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (key === "check-files") d.checkFiles.push(...value.split(/\s+/).filter(Boolean));
  }
  return d;
}

async function runCase(name: string): Promise<string> {
  const scriptPath = join(DIR, `${name}.txt`);
  const script = readFileSync(scriptPath, "utf8");
  const d = readDirectives(script);
  const box = makeSandbox(`golden-${name}-`);
  const git = Bun.spawnSync(["git", "init", "-q"], { cwd: box.work, env: box.env });
  if (git.exitCode !== 0) throw new Error(`git init failed: ${git.stderr}`);
  const env: Record<string, string> = { ...box.env, STATE: box.state, ...d.env };
  if (d.info) env.TASKRUNNER_LOG_INFO = "1";
  if (d.quiet) env.TASKRUNNER_QUIET = "1";
  const cmd = d.toplevel ? [EXE, "-n", "toplevel", "bash", "-e", scriptPath] : ["bash", "-e", scriptPath];
  // One pipe for both streams: the case shows lines in the order they were written.
  const proc = Bun.spawn(["bash", "-c", 'exec "$@" 2>&1', "bash", ...cmd], { cwd: box.work, env, stdin: "ignore", stdout: "pipe" });
  const text = await new Response(proc.stdout).text();
  const code = await proc.exited;
  let output = text + `# exit code: ${code}\n`;
  for (const pattern of d.checkFiles) {
    const matches = [...new Bun.Glob(pattern).scanSync({ cwd: box.root, dot: true, onlyFiles: true })].sort();
    if (matches.length === 0) output += `--- ${pattern}: no such file\n`;
    for (const m of matches) {
      const body = readFileSync(join(box.root, m), "utf8");
      output += `--- ${m.replace(/builds\/[^/]+\//, "builds/BUILD/")}\n${body}${body.endsWith("\n") || body === "" ? "" : "\n[no newline at end]\n"}`;
    }
  }
  output = output.split(box.root).join("$ROOT");
  rmSync(box.root, { recursive: true, force: true });
  return output;
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => basename(f, ".txt"))
  .filter((n) => !only || n === only)
  .sort();

test("the executable is built", () => {
  expect(existsSync(EXE)).toBe(true);
});

for (const name of cases) {
  test(`golden: ${name}`, async () => {
    const actual = await runCase(name);
    const outPath = join(DIR, `${name}.out`);
    if (UPDATE || !existsSync(outPath)) {
      writeFileSync(outPath, actual);
      if (!UPDATE) throw new Error(`${name}.out did not exist; wrote it from this run, check it:\n${actual}`);
      return;
    }
    const expected = readFileSync(outPath, "utf8");
    if (actual !== expected) console.error(`--- actual output of ${name} (paste into ${name}.out if right):\n${actual}--- end`);
    expect(actual).toBe(expected);
  });
}
