// The stat shortcut's pure scope (which pathspecs and settings it takes, what it watches) and
// its fingerprint walk on trees big enough for the JIT to optimise the walk: an FFI call writes
// the records, and a walk that read them through stale typed-array loads once saw every entry as
// the first (see src/sys/libc.ts lstatInto). Every edit below is deep in the last directory
// walked, after thousands of entries.
import { test, expect, beforeAll, afterAll } from "bun:test";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { statScope, type ScopeInput } from "../../src/inputs/stat-scope.ts";
import { fingerprint, type FingerprintOptions } from "../../src/inputs/stat-fingerprint.ts";

const ROOT = realpathSync(mkdtempSync(join(tmpdir(), "taskrunner-fingerprint-")));
const REPO = join(ROOT, "repo");
const DIRS = 40;
const FILES = 100;
beforeAll(() => {
  mkdirSync(join(REPO, ".git"), { recursive: true });
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(REPO, "src", `d${d}`), { recursive: true });
    for (let f = 0; f < FILES; f++) writeFileSync(join(REPO, "src", `d${d}`, `f${f}.txt`), `file ${d} ${f}\n`);
  }
});
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const base: ScopeInput = { cwd: "/r", gitDir: "/r/.git", pathspecs: ["src"], env: { HOME: "/h" } };

test.each([
  ["a plain path", {}, null],
  ["the root itself", { pathspecs: ["."] }, null],
  ["a path from a subdirectory", { cwd: "/r/a/b", pathspecs: ["../c", "d/"] }, null],
  ["a glob", { pathspecs: ["src/*.ts"] }, 'pathspec "src/*.ts" is not a plain path'],
  ["magic", { pathspecs: [":(exclude)src"] }, 'pathspec ":(exclude)src" is not a plain path'],
  ["a backslash", { pathspecs: ["a\\b"] }, 'pathspec "a\\\\b" is not a plain path'],
  ["an empty pathspec", { pathspecs: [""] }, 'pathspec "" is not a plain path'],
  ["outside the work tree", { pathspecs: ["../x"] }, 'pathspec "../x" is outside the work tree'],
  ["inside .git", { pathspecs: [".git/config"] }, 'pathspec ".git/config" is inside .git'],
  ["no plain .git directory", { gitDir: null }, "not a plain work tree"],
  ["a linked work tree's git directory", { gitDir: "/r/.git/worktrees/x" }, "not a plain work tree"],
  ["cwd outside the work tree", { cwd: "/elsewhere" }, "the directory is outside the work tree"],
  ["configuration from the environment", { env: { GIT_CONFIG_COUNT: "1" } }, "GIT_CONFIG_COUNT is set"],
  ["a config key from the environment", { env: { GIT_CONFIG_KEY_0: "core.excludesFile" } }, "GIT_CONFIG_KEY_0 is set"],
] as [string, Partial<ScopeInput>, string | null][])("scope: %s", (_, change, error) => {
  const r = statScope({ ...base, ...change });
  expect(r.ok ? null : r.error).toBe(error);
});

test("scope: watches the index, configuration and rules on the way to each target", () => {
  const r = statScope({ cwd: "/r", gitDir: "/r/.git", pathspecs: ["a/b/file", "c"], env: { HOME: "/h", GIT_CONFIG_NOSYSTEM: "1", GIT_ATTR_NOSYSTEM: "1" } });
  if (!r.ok) throw new Error(r.error);
  expect(r.value.targets).toEqual(["a/b/file", "c"]);
  expect(r.value.ancestors).toEqual(["", "a", "a/b"]);
  expect(r.value.watched).toEqual([
    "/r/.git/index", "/r/.git/config", "/r/.git/config.worktree", "/h/.gitconfig", "/h/.config/git/config",
    "/r/.git/info/exclude", "/r/.git/info/attributes", "/r/.git/info/sparse-checkout", "/r/.gitmodules",
    "/h/.config/git/ignore", "/h/.config/git/attributes",
    "/r/.gitignore", "/r/.gitattributes", "/r/a/.gitignore", "/r/a/.gitattributes", "/r/a/b/.gitignore", "/r/a/b/.gitattributes",
  ]);
  // Variables that change what git reads are part of the key; others are not.
  const key = (env: Record<string, string>) => {
    const s = statScope({ cwd: "/r", gitDir: "/r/.git", pathspecs: ["c"], env });
    return s.ok ? s.value.key : s.error;
  };
  expect(key({ HOME: "/h", PATH: "/a" })).toBe(key({ HOME: "/h", PATH: "/b" }));
  expect(key({ HOME: "/h" })).not.toBe(key({ HOME: "/other" }));
  expect(key({ HOME: "/h" })).not.toBe(key({ HOME: "/h", GIT_CEILING_DIRECTORIES: "/" }));
});

const scope = () => {
  const r = statScope({ cwd: REPO, gitDir: join(REPO, ".git"), pathspecs: ["src"], env: {} });
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
// Nothing racy: every entry goes by its stat data, the path a warm tree takes.
const byStat: FingerprintOptions = { racy: [], now: 0, racyWindowMs: 0, maxEntries: 1e6, readNewlyRacy: false };
const print = () => {
  const r = fingerprint(scope(), byStat);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const last = (name: string) => join(REPO, "src", `d${DIRS - 1}`, name);

test("fingerprint: every entry of a big tree is walked, and a change to the last one is seen", () => {
  const first = print();
  expect(first.entries).toBe(DIRS + DIRS * FILES);
  expect(print().hash).toBe(first.hash); // stable
  readFileSync(last("f50.txt")); // reading (atime) is not a change
  expect(print().hash).toBe(first.hash);

  const seen = new Set([first.hash]);
  const changes: [string, () => void][] = [
    ["chmod", () => chmodSync(last(`f${FILES - 1}.txt`), 0o755)],
    ["append", () => appendFileSync(last("f98.txt"), "more\n")],
    ["new file", () => writeFileSync(last("zz.txt"), "new\n")],
    ["symlink", () => symlinkSync("f1.txt", last("link"))],
    ["delete", () => rmSync(last("f0.txt"))],
    ["new directory", () => mkdirSync(last("sub"))],
  ];
  for (const [what, change] of changes) {
    change();
    const now = print();
    expect({ what, changed: !seen.has(now.hash) }).toEqual({ what, changed: true });
    seen.add(now.hash);
  }
  expect(print().entries).toBe(DIRS + DIRS * FILES - 1 + 3);
});

test("fingerprint: racy entries are compared by content and stat data, and recorded by stat data once they age", () => {
  const file = last("racy.txt");
  writeFileSync(file, "one\n");
  const now = Date.now();
  const opts = { ...byStat, now, racyWindowMs: 60_000, readNewlyRacy: true };
  const recorded = fingerprint(scope(), opts);
  if (!recorded.ok) throw new Error(recorded.error);
  expect(recorded.value.racyNow.length).toBeGreaterThan(0);
  expect(recorded.value.fresh).not.toBeNull();
  const check = (at = now) => {
    const r = fingerprint(scope(), { ...opts, now: at, racy: recorded.value.racyNow, readNewlyRacy: false });
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  // Nothing changed: the recorded racy set matches.
  expect(check().hash).toBe(recorded.value.fresh!);
  // Later, nothing is racy any more: still a match, and `fresh` is the stat fingerprint.
  const aged = check(now + 120_000);
  expect(aged.hash).toBe(recorded.value.fresh!);
  expect(aged.racyNow).toEqual([]);
  expect(aged.fresh).toBe(print().hash);
  // Other content of the same size is seen; so is the same content written again (its times
  // changed, and git's answer can depend on them: see contentRecord).
  writeFileSync(file, "two\n");
  expect(check().hash).not.toBe(recorded.value.fresh!);
  writeFileSync(file, "one\n");
  expect(check().hash).not.toBe(recorded.value.fresh!);
});

test("fingerprint: gives up on a nested repository and on too many entries", () => {
  mkdirSync(last("nested/.git"), { recursive: true });
  const r = fingerprint(scope(), byStat);
  expect(r.ok ? "ok" : r.error).toBe(`${last("nested/.git")} is a nested repository`);
  rmSync(last("nested"), { recursive: true });
  const small = fingerprint(scope(), { ...byStat, maxEntries: 100 });
  expect(small.ok ? "ok" : small.error).toBe("more than 100 files to watch");
});

test("fingerprint: hot code gives what cold code gave (records are C memory, read natively)", () => {
  // Once the walk is optimised and the collector has run, memory handed to C must still be
  // where C writes; a first version lost records to a moved typed array only under these conditions.
  const racy = { ...byStat, now: Date.now(), racyWindowMs: 3_600_000, readNewlyRacy: true };
  const cold = fingerprint(scope(), racy);
  if (!cold.ok) throw new Error(cold.error);
  for (let i = 0; i < 12; i++) {
    Bun.gc(true);
    const hot = fingerprint(scope(), racy);
    if (!hot.ok) throw new Error(hot.error);
    expect(hot.value.fresh).toBe(cold.value.fresh);
    const check = fingerprint(scope(), { ...racy, racy: cold.value.racyNow, readNewlyRacy: false });
    if (!check.ok) throw new Error(check.error);
    expect(check.value.hash).toBe(cold.value.fresh!);
  }
  // Thirteen full collections of a big heap: 2-4 s alone, 5.5 s late in a loaded full run. Bun
  // 1.4.5 ignores bunfig's [test] timeout, so the default 5 s applied.
}, 30_000);
