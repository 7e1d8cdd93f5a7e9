// The golden harness (test/golden.test.ts says what a case is and how it runs).
import { test, expect, afterAll } from "bun:test";
import { readdirSync, readFileSync, writeFileSync, existsSync, rmSync, mkdirSync, chmodSync } from "node:fs";
import { startS3, startFaultyS3, refusingEndpoint, s3Env, type S3Server, type FaultMode } from "./s3.ts";
import { join, basename } from "node:path";
import { EXE, makeSandbox } from "./env.ts";
import { githubSetup, parseGithubOptions, type GithubOptions } from "./github-case.ts";

const DIR = join(import.meta.dir, "..", "t");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const only = (process.env.GOLDEN_ONLY ?? "").split(/[\s,]+/).filter(Boolean);

interface Directives {
  toplevel: boolean;
  quiet: boolean;
  info: boolean;
  env: Record<string, string>;
  checkFiles: string[];
  /** null: no S3; "s3rver": a fresh bucket; else a faulty endpoint. */
  s3: null | "s3rver" | "refuse" | FaultMode;
  /** null: no GitHub; else the fake's options. */
  github: GithubOptions | null;
}

function readDirectives(script: string): Directives {
  const d: Directives = { toplevel: true, quiet: false, info: true, env: {}, checkFiles: [], s3: null, github: null };
  for (const line of script.split("\n")) {
    if (!line.startsWith("#")) break;
    const m = /^#\s*([a-z0-9-]+)(?::\s*(.*))?$/.exec(line);
    if (!m) continue;
    const [, key, value = ""] = m;
    if (key === "no-toplevel") d.toplevel = false;
    else if (key === "quiet") d.quiet = true;
    else if (key === "no-info") d.info = false;
    else if (key === "env") {
      const eq = value.indexOf("=");
      d.env[value.slice(0, eq)] = value.slice(eq + 1);
    } else if (key === "check-files") d.checkFiles.push(...value.split(/\s+/).filter(Boolean));
    else if (key === "s3") {
      const mode = value.trim() || "s3rver";
      if (!["s3rver", "refuse", "hang", "500", "500-on-put"].includes(mode)) throw new Error(`unknown s3 mode ${mode}`);
      d.s3 = mode as Directives["s3"];
    } else if (key === "github") d.github = parseGithubOptions(value);
  }
  return d;
}

let s3: Promise<S3Server> | null = null;
let buckets = 0;

/** The environment (and cleanup) for a case's S3 directive; an `s3` command goes on PATH. */
async function s3Setup(mode: Directives["s3"], binDir: string): Promise<{ env: Record<string, string>; close: () => Promise<void> }> {
  if (mode === null) return { env: {}, close: async () => {} };
  mkdirSync(binDir, { recursive: true });
  const cli = join(import.meta.dir, "s3-cli.ts");
  writeFileSync(join(binDir, "s3"), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  chmodSync(join(binDir, "s3"), 0o755);
  if (mode === "s3rver") {
    s3 ??= startS3();
    const server = await s3;
    const bucket = `case-${++buckets}`;
    await server.createBucket(bucket);
    return { env: s3Env(server.endpoint, bucket), close: async () => {} };
  }
  if (mode === "refuse") return { env: s3Env(await refusingEndpoint(), "b"), close: async () => {} };
  const faulty = await startFaultyS3(mode);
  return { env: s3Env(faulty.endpoint, "b"), close: () => faulty.close() };
}

/**
 * The fast paths and their fallbacks: a nested `taskrunner` call served by the build's top-level
 * runner (the `taskrunner` bash function) or run by a new executable (TASKRUNNER_DISABLE_FAST_NESTING=1);
 * a task's first `snapshot` call read from its command before its bash starts, or decided when
 * bash makes it (TASKRUNNER_DISABLE_EARLY_SNAPSHOT=1). Every case runs with both on (the default)
 * and both off against the same expected output, from two test files, so that
 * `bun test --parallel` runs them side by side.
 */
export const NESTING = {
  served: { label: "", env: {} },
  executable: { label: " (fast paths off)", env: { TASKRUNNER_DISABLE_FAST_NESTING: "1", TASKRUNNER_DISABLE_EARLY_SNAPSHOT: "1" } },
} as const;

async function runCase(name: string, nestingEnv: Record<string, string>): Promise<string> {
  const scriptPath = join(DIR, `${name}.txt`);
  const script = readFileSync(scriptPath, "utf8");
  const d = readDirectives(script);
  const box = makeSandbox(`golden-${name}-`);
  const git = Bun.spawnSync(["git", "init", "-q"], { cwd: box.work, env: box.env });
  if (git.exitCode !== 0) throw new Error(`git init failed: ${git.stderr}`);
  const binDir = join(box.root, "bin");
  const s3case = await s3Setup(d.s3, binDir);
  const github = d.github === null ? null : await githubSetup(d.github, binDir);
  const env: Record<string, string> = { ...box.env, ...nestingEnv, ...s3case.env, ...github?.env, STATE: box.state, ...d.env };
  if (d.s3 !== null || github !== null) env.PATH = `${binDir}:${env.PATH}`;
  if (d.info) env.TASKRUNNER_LOG_INFO = "1";
  if (d.quiet) env.TASKRUNNER_QUIET = "1";
  const cmd = d.toplevel ? [EXE, "-n", "toplevel", "bash", "-e", scriptPath] : ["bash", "-e", scriptPath];
  // One pipe for both streams: the case shows lines in the order they were written.
  const proc = Bun.spawn(["bash", "-c", 'exec "$@" 2>&1', "bash", ...cmd], { cwd: box.work, env, stdin: "ignore", stdout: "pipe" });
  const text = await new Response(proc.stdout).text();
  const code = await proc.exited;
  await s3case.close();
  await github?.close();
  let output = text + `# exit code: ${code}\n`;
  for (const pattern of d.checkFiles) {
    const matches = [...new Bun.Glob(pattern).scanSync({ cwd: box.root, dot: true, onlyFiles: true })].sort();
    if (matches.length === 0) output += `--- ${pattern}: no such file\n`;
    for (const m of matches) {
      const body = readFileSync(join(box.root, m), "utf8");
      output += `--- ${m.replace(/builds\/[^/]+\//, "builds/BUILD/")}\n${body}${body.endsWith("\n") || body === "" ? "" : "\n[no newline at end]\n"}`;
    }
  }
  if (github !== null) output += github.report(output, box.root, box.state);
  // Build ids (time and pid) differ in every run: a log path a parent's debug line names, say.
  output = output.split(box.root).join("$ROOT").replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT").replace(/builds\/\d{4}-\d\d-\d\dT[^/\s]+\//g, "builds/BUILD/");
  rmSync(box.root, { recursive: true, force: true });
  return output;
}

const allCases = readdirSync(DIR)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => basename(f, ".txt"))
  .sort();
const unknown = only.filter((n) => !allCases.includes(n));
if (unknown.length > 0) throw new Error(`GOLDEN_ONLY names no such case: ${unknown.join(" ")} (test/t/NAME.txt)`);
const cases = only.length === 0 ? allCases : allCases.filter((n) => only.includes(n));

/** Defines a test per golden case, run with nested calls served the way `nesting` says. */
export function goldenCases(nesting: (typeof NESTING)[keyof typeof NESTING]): void {
  // Per test file: bun may run several files in one process, sharing this module.
  afterAll(async () => {
    const server = s3;
    s3 = null;
    if (server !== null) await (await server).close();
  });
  test("the executable is built", () => {
    expect(existsSync(EXE)).toBe(true);
  });
  for (const name of cases) defineCase(name, nesting);
}

function defineCase(name: string, nesting: (typeof NESTING)[keyof typeof NESTING]): void {
  test(`golden${nesting.label}: ${name}`, async () => {
    const actual = await runCase(name, nesting.env);
    const outPath = join(DIR, `${name}.out`);
    if ((UPDATE && nesting.label === "") || !existsSync(outPath)) {
      writeFileSync(outPath, actual);
      if (!UPDATE) throw new Error(`${name}.out did not exist; wrote it from this run, check it:\n${actual}`);
      return;
    }
    const expected = readFileSync(outPath, "utf8");
    if (actual !== expected) console.error(`--- actual output of ${name} (paste into ${name}.out if right):\n${actual}--- end`);
    expect(actual).toBe(expected);
  });
}
