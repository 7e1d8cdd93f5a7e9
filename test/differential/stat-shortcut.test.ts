// The stat shortcut (src/inputs/stat-memo.ts) against the full git hash, side by side: long
// seeded random sequences of edits to a real repository, and after each edit every snapshot
// configuration is hashed through the shortcut and through git alone. They must agree, always;
// and the shortcut must really answer (hits are counted), or the comparison proves nothing.
// A deliberately broken shortcut run through the same harness must be caught.

import { test, expect, beforeAll, afterAll } from "bun:test";
import {
  chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync,
  utimesSync, writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { hashInputs, warmUp, type InputHash, type InputError } from "../../src/inputs/hash.ts";
import { DEFAULT_MEMO_OPTIONS, memoQuestion, type MemoOptions } from "../../src/inputs/stat-memo.ts";
import type { Result } from "../../src/result.ts";
import { makeGitSandbox } from "../helpers/git-env.ts";

const { root: ROOT, tmp: TMP, env: ENV } = makeGitSandbox("taskrunner-differential-");

// The global configuration is a symlink, as dotfile managers make it: git reads what it points to.
const DOTFILE = join(ENV.HOME!, "dotfiles", "gitconfig");
beforeAll(() => {
  mkdirSync(dirname(DOTFILE), { recursive: true });
  writeFileSync(DOTFILE, "");
  symlinkSync(DOTFILE, join(ENV.HOME!, ".gitconfig"));
  mkdirSync(TMP, { recursive: true });
});
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

function git(cwd: string, args: string[]): { code: number; err: string } {
  const r = Bun.spawnSync(["git", ...args], { cwd, env: ENV, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, err: r.stderr.toString() };
}
function mustGit(cwd: string, args: string[]): void {
  const r = git(cwd, args);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.err}`);
}

/** mulberry32: a small seeded generator, so that a failing sequence can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let repoCount = 0;
function makeRepo(): string {
  const repo = join(ROOT, `repo-${++repoCount}`);
  const files: Record<string, string> = {
    "src/a.txt": "alpha\n", "src/b.txt": "bravo\n", "src/c.txt": "charlie\n",
    "src/sub/d.txt": "delta\n", "src/sub/e.txt": "echo\n", "docs/readme.md": "# readme\n",
    "bin/tool.sh": "echo tool\n", ".gitignore": "*.log\nbuild/\n", "src/build/kept.o": "tracked though ignored\n",
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, rel)), { recursive: true });
    writeFileSync(join(repo, rel), content);
  }
  mustGit(repo, ["init", "-q", "-b", "main"]);
  mustGit(repo, ["add", "-A"]);
  mustGit(repo, ["add", "-f", "src/build/kept.o"]);
  mustGit(repo, ["commit", "-qm", "one"]);
  mustGit(repo, ["checkout", "-qb", "other"]);
  writeFileSync(join(repo, "src/b.txt"), "bravo on other\n");
  writeFileSync(join(repo, "src/sub/f.txt"), "foxtrot\n");
  rmSync(join(repo, "docs/readme.md"));
  mustGit(repo, ["add", "-A"]);
  mustGit(repo, ["commit", "-qm", "two"]);
  mustGit(repo, ["checkout", "-q", "main"]);
  return repo;
}

/** A `snapshot` call: where it runs and what it names. */
interface Config {
  cwd: string;
  pathspecs: string[];
}
const CONFIGS: Config[] = [
  { cwd: "", pathspecs: ["src"] },
  { cwd: "", pathspecs: ["src/a.txt", "docs/readme.md"] },
  { cwd: "", pathspecs: ["."] },
  { cwd: "src/sub", pathspecs: ["../a.txt", "."] },
  { cwd: "", pathspecs: ["bin/tool.sh", "src/new"] },
];

type Hash = (repo: string, config: Config, memoPath: string, options: MemoOptions) => Promise<Result<InputHash, InputError>>;

const shortcut: Hash = (repo, config, memoPath, options) =>
  hashInputs({ cwd: join(repo, config.cwd), pathspecs: config.pathspecs, raw: [], env: ENV, tmpDir: TMP, memo: { path: memoPath, options } });
const gitOnly = (repo: string, config: Config) =>
  hashInputs({ cwd: join(repo, config.cwd), pathspecs: config.pathspecs, raw: [], env: ENV, tmpDir: TMP });

/** All files and directories under the work tree (not .git), relative. */
function entries(repo: string, rel = ""): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [rel];
  for (const name of readdirSync(join(repo, rel))) {
    if (rel === "" && name === ".git") continue;
    const child = rel === "" ? name : `${rel}/${name}`;
    const st = lstatSync(join(repo, child));
    if (st.isDirectory()) {
      const sub = entries(repo, child);
      files.push(...sub.files);
      dirs.push(...sub.dirs);
    } else files.push(child);
  }
  return { files, dirs };
}

const NAMES = ["a.txt", "b.txt", "new.txt", "x.log", "y.md", "z.sh", "new", "kept.o", ".gitignore"];

/** The edits of the issue, plus a few more kinds git reads; each says what it did. */
function edits(repo: string, random: () => number, ageMs: number | null): Array<() => Promise<string> | string> {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const file = () => {
    const fs = entries(repo).files.filter((f) => !lstatSync(join(repo, f)).isSymbolicLink());
    return fs.length === 0 ? null : pick(fs);
  };
  const word = () => Math.floor(random() * 1e6).toString(36);
  const list: Array<() => Promise<string> | string> = [
    () => {
      const f = file();
      if (f === null) return "no file";
      writeFileSync(join(repo, f), `${readFileSync(join(repo, f), "utf8")}${word()}\n`);
      return `content change ${f}`;
    },
    () => {
      // Same size, and the old mtime put back: only ctime (and content) can tell.
      const f = file();
      if (f === null) return "no file";
      const path = join(repo, f);
      const st = statSync(path);
      const old = readFileSync(path);
      if (old.length === 0) return `same-size rewrite skipped (empty ${f})`;
      const next = Buffer.from(old);
      next[0] = next[0] === 0x5a ? 0x59 : 0x5a;
      writeFileSync(path, next);
      utimesSync(path, st.atime, st.mtime);
      return `same-size rewrite, mtime kept ${f}`;
    },
    () => {
      const d = pick(entries(repo).dirs);
      const f = d === "" ? pick(NAMES) : `${d}/${pick(NAMES)}`;
      if (existsSync(join(repo, f))) return `exists ${f}`;
      writeFileSync(join(repo, f), `${word()}\n`);
      return `new file ${f}`;
    },
    () => {
      const f = file();
      if (f === null) return "no file";
      rmSync(join(repo, f));
      return `delete ${f}`;
    },
    () => {
      const f = file();
      if (f === null) return "no file";
      const to = join(pick(entries(repo).dirs), pick(NAMES)).replace(/^\//, "");
      if (existsSync(join(repo, to))) return `rename target exists ${to}`;
      renameSync(join(repo, f), join(repo, to));
      return `rename ${f} -> ${to}`;
    },
    () => {
      const f = file();
      if (f === null) return "no file";
      const mode = statSync(join(repo, f)).mode;
      chmodSync(join(repo, f), mode & 0o111 ? 0o644 : 0o755);
      return `chmod ${mode & 0o111 ? "-x" : "+x"} ${f}`;
    },
    () => {
      const where = pick(["", "src/", "src/sub/"]);
      const rules = pick(["*.log\nbuild/\n", "*.log\n", "c.txt\n", "sub/\n", "*.md\nbuild/\n", "!kept.o\n", "new.txt\n"]);
      writeFileSync(join(repo, `${where}.gitignore`), rules);
      return `${where}.gitignore = ${JSON.stringify(rules)}`;
    },
    () => {
      const branch = pick(["main", "other"]);
      const r = git(repo, ["checkout", "-q", "-f", branch]);
      return r.code === 0 ? `checkout ${branch}` : `checkout ${branch} refused`;
    },
    () => {
      const f = file();
      if (f === null) return "no file";
      const now = new Date();
      utimesSync(join(repo, f), now, now);
      return `touch ${f}`;
    },
    () => {
      const f = file();
      if (f === null) return "no file";
      if (random() < 0.5) writeFileSync(join(repo, f), `${word()}\n`);
      const r = git(repo, ["add", "-f", "--", f]);
      return `stage ${f}${r.code === 0 ? "" : " refused"}`;
    },
    () => {
      git(repo, ["add", "-A"]);
      const r = git(repo, ["commit", "-qm", "c"]);
      return `commit${r.code === 0 ? "" : " (nothing)"}`;
    },
    () => {
      const rules = pick(["*.txt text eol=crlf\n", "*.md -text\n", "", "*.sh text\n"]);
      writeFileSync(join(repo, "src/.gitattributes"), rules);
      if (random() < 0.5) writeFileSync(join(repo, "src/a.txt"), "line one\r\nline two\r\n");
      return `src/.gitattributes = ${JSON.stringify(rules)}`;
    },
    () => {
      const d = pick(entries(repo).dirs);
      const link = d === "" ? "link" : `${d}/link`;
      if (existsSync(join(repo, link)) || lstatSync(join(repo, d)).isSymbolicLink()) return "link exists";
      symlinkSync(pick(["a.txt", "../b.txt", "nowhere"]), join(repo, link));
      return `symlink ${link}`;
    },
    () => {
      const f = file();
      if (f === null) return "no file";
      rmSync(join(repo, f));
      mkdirSync(join(repo, f));
      if (random() < 0.5) writeFileSync(join(repo, f, "inner.txt"), "inner\n");
      return `file -> directory ${f}`;
    },
    () => {
      const v = pick(["true", "false"]);
      mustGit(repo, ["config", "core.fileMode", v]);
      return `core.fileMode ${v}`;
    },
    () => {
      writeFileSync(join(repo, ".git/info/exclude"), pick(["", "*.md\n", "b.txt\n"]));
      return "info/exclude changed";
    },
    () => {
      const config = pick(["", "[core]\n\tfileMode = false\n", "[core]\n\tautocrlf = true\n", "[core]\n\tfileMode = true\n"]);
      writeFileSync(DOTFILE, config);
      return `global configuration (through a symlink) = ${JSON.stringify(config)}`;
    },
    () => {
      const d = join(repo, pick(["src", "src/sub", "docs", "bin"]));
      if (!existsSync(d) || !lstatSync(d).isDirectory()) return "no directory";
      const r = git(d, ["rm", "-q", "--cached", "-r", "--ignore-unmatch", "."]);
      return `untrack ${relative(repo, d)}${r.code === 0 ? "" : " refused"}`;
    },
  ];
  if (ageMs !== null) {
    // Lets entries age past the racy window, so that plain stat data is what gets compared.
    const age = async () => {
      await Bun.sleep(ageMs);
      return `waited ${ageMs} ms`;
    };
    list.push(age, age, age);
  }
  return list;
}

interface Outcome {
  checks: number;
  hits: number;
  mismatches: string[];
}

const describe = (r: Result<InputHash, InputError>): string => (r.ok ? r.value.hash : `error ${r.error.kind}`);

async function runSequence(seed: number, steps: number, options: MemoOptions, ageMs: number | null, hash: Hash): Promise<Outcome> {
  const repo = makeRepo();
  const random = rng(seed);
  const kinds = edits(repo, random, ageMs);
  const memos = CONFIGS.map((_, i) => join(ROOT, `memo-${repoCount}-${i}`));
  const log: string[] = [];
  const out: Outcome = { checks: 0, hits: 0, mismatches: [] };
  for (let step = 0; step <= steps; step++) {
    if (step > 0) {
      const edit = kinds[Math.floor(random() * kinds.length)]!;
      // Some edits cannot apply to the tree as it is (a name taken, a file become a directory).
      log.push(await Promise.resolve().then(edit).catch((e: Error) => `edit not applicable: ${e.message}`));
    }
    for (const [i, config] of CONFIGS.entries()) {
      // Twice through the shortcut: the first right after the edit (must see it), the second
      // usually from the memo the first recorded.
      for (let k = 0; k < 2; k++) {
        const fast = await hash(repo, config, memos[i]!, options);
        const full = await gitOnly(repo, config);
        out.checks++;
        if (fast.ok && fast.value.via === "memo") out.hits++;
        const same = fast.ok && full.ok ? fast.value.hashInput === full.value.hashInput : !fast.ok && !full.ok && fast.error.kind === full.error.kind;
        if (!same) {
          out.mismatches.push(`seed ${seed} step ${step} ${JSON.stringify(config)} call ${k + 1}: shortcut ${describe(fast)} (${fast.ok ? fast.value.via : "-"}), git ${describe(full)}; edits: ${log.slice(-6).join("; ")}`);
        }
      }
    }
    if (out.mismatches.length > 0) break;
  }
  return out;
}

const STEPS = 200;

test("the shortcut decides as git does, default racy window (edited files are checked by content)", async () => {
  const r = await runSequence(1, STEPS, DEFAULT_MEMO_OPTIONS, null, shortcut);
  expect(r.mismatches).toEqual([]);
  expect(r.hits).toBeGreaterThan(r.checks / 3);
}, 120_000);

test("the shortcut decides as git does, short racy window (aged files are checked by stat data)", async () => {
  // 40 ms is still above Linux's timestamp tick; waits let entries age past it.
  const r = await runSequence(2, STEPS, { ...DEFAULT_MEMO_OPTIONS, racyWindowMs: 40 }, 50, shortcut);
  expect(r.mismatches).toEqual([]);
  expect(r.hits).toBeGreaterThan(r.checks / 3);
}, 120_000);

test("the harness catches a shortcut that misses changes", async () => {
  // Remembers the first answer per configuration forever: wrong after the first real edit.
  const remembered = new Map<string, Result<InputHash, InputError>>();
  const broken: Hash = async (repo, config, memoPath, options) => {
    const known = remembered.get(memoPath);
    if (known !== undefined) return known.ok ? { ok: true, value: { ...known.value, via: "memo" } } : known;
    const r = await shortcut(repo, config, memoPath, options);
    remembered.set(memoPath, r);
    return r;
  };
  const r = await runSequence(3, 40, DEFAULT_MEMO_OPTIONS, null, broken);
  expect(r.mismatches.length).toBeGreaterThan(0);
}, 60_000);

test("a scope the shortcut declines is left to git until the index changes, then tried again", async () => {
  const repo = makeRepo();
  const memoPath = join(ROOT, "memo-declined");
  const options = { ...DEFAULT_MEMO_OPTIONS, maxEntries: 6 };
  const call = async () => {
    const r = await shortcut(repo, { cwd: "", pathspecs: ["src"] }, memoPath, options);
    if (!r.ok) throw new Error(describe(r));
    return { via: r.value.via, declined: r.value.declined ?? null };
  };
  const tooMany = { via: "git" as const, declined: "more than 6 files to watch" };
  expect(await call()).toEqual(tooMany);
  expect(readFileSync(memoPath, "utf8")).toContain('"declined":"more than 6 files to watch"');
  // Fewer files, but the index is the same: still declined, without walking.
  rmSync(join(repo, "src/sub"), { recursive: true });
  rmSync(join(repo, "src/build"), { recursive: true });
  expect(await call()).toEqual(tooMany);
  // A new index: tried again, recorded, then answered from the memo.
  mustGit(repo, ["add", "-A", "src"]);
  expect(await call()).toEqual({ via: "git", declined: null });
  expect(await call()).toEqual({ via: "memo", declined: null });
});

test("no memo when the state directory is inside the inputs (it changes on every run)", async () => {
  const repo = makeRepo();
  const memoPath = join(repo, "src", ".state", "hash", "t.stat");
  for (let i = 0; i < 2; i++) {
    const r = await shortcut(repo, { cwd: "", pathspecs: ["src"] }, memoPath, DEFAULT_MEMO_OPTIONS);
    expect(r.ok && r.value.via).toBe("git");
  }
  expect(existsSync(memoPath)).toBe(false);
  // Beside the inputs it is fine.
  const beside = join(repo, ".state", "t.stat");
  await shortcut(repo, { cwd: "", pathspecs: ["src"] }, beside, DEFAULT_MEMO_OPTIONS);
  const r = await shortcut(repo, { cwd: "", pathspecs: ["src"] }, beside, DEFAULT_MEMO_OPTIONS);
  expect(r.ok && r.value.via).toBe("memo");
});

test("the rehearsal question: a memo's directory and pathspecs, only for small listings", async () => {
  const repo = makeRepo();
  const memoPath = join(ROOT, "memo-question");
  expect(memoQuestion(memoPath, 64)).toBeNull(); // no memo yet
  await shortcut(repo, { cwd: "src", pathspecs: ["sub", "a.txt"] }, memoPath, DEFAULT_MEMO_OPTIONS);
  expect(memoQuestion(memoPath, 64)).toEqual({ cwd: join(repo, "src"), pathspecs: ["sub", "a.txt"] });
  expect(memoQuestion(memoPath, 3)).toBeNull(); // three files listed: not fewer than 3
  writeFileSync(memoPath, '{"v":1,"key":"not json"}\nx');
  expect(memoQuestion(memoPath, 64)).toBeNull();
});

test("a touched file is not taken as unchanged when attributes changed since it was indexed", async () => {
  // Git keeps a stat-clean file's old blob after .gitattributes changes, and hashes a touched
  // one anew: the same content gives another listing. Racy entries once went by content alone.
  const repo = makeRepo();
  writeFileSync(join(repo, "src/crlf.txt"), "one\r\ntwo\r\n");
  // Older than the index by far: git trusts its stat data (no racy re-read of its own).
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(join(repo, "src/crlf.txt"), past, past);
  mustGit(repo, ["add", "src/crlf.txt"]);
  mustGit(repo, ["commit", "-qm", "crlf"]);
  writeFileSync(join(repo, "src/.gitattributes"), "*.txt text\n");
  const memoPath = join(ROOT, "memo-touch");
  const everythingRacy = { ...DEFAULT_MEMO_OPTIONS, racyWindowMs: 3_600_000 };
  const config = { cwd: "", pathspecs: ["src"] };
  await shortcut(repo, config, memoPath, everythingRacy);
  const before = await shortcut(repo, config, memoPath, everythingRacy);
  expect(before.ok && before.value.via).toBe("memo");
  const later = new Date(Date.now() + 5000);
  utimesSync(join(repo, "src/crlf.txt"), later, later);
  const [fast, full] = [await shortcut(repo, config, memoPath, everythingRacy), await gitOnly(repo, config)];
  expect(fast.ok && full.ok && fast.value.hashInput === full.value.hashInput).toBe(true);
  expect(fast.ok && before.ok && fast.value.hash !== before.value.hash).toBe(true);
});

test("the rehearsal reads only: memo and state directory are left as they were", async () => {
  const repo = makeRepo();
  const state = join(ROOT, "state-rehearsal");
  mkdirSync(state);
  const memoPath = join(state, "t.stat");
  await shortcut(repo, { cwd: "", pathspecs: ["src"] }, memoPath, { ...DEFAULT_MEMO_OPTIONS, racyWindowMs: 3_600_000 });
  const before = { bytes: readFileSync(memoPath), mtime: statSync(memoPath).mtimeMs, names: readdirSync(state) };
  writeFileSync(join(repo, "src/a.txt"), "changed since the memo\n");
  warmUp(memoPath, ENV);
  expect({ bytes: readFileSync(memoPath), mtime: statSync(memoPath).mtimeMs, names: readdirSync(state) }).toEqual(before);
  // And the change is still seen by the real call afterwards.
  const [fast, full] = [await shortcut(repo, { cwd: "", pathspecs: ["src"] }, memoPath, DEFAULT_MEMO_OPTIONS), await gitOnly(repo, { cwd: "", pathspecs: ["src"] })];
  expect(fast.ok && full.ok && fast.value.via === "git" && fast.value.hash === full.value.hash).toBe(true);
});
