// Input hashing against real git, in repositories made here. The reference for bit-for-bit
// compatibility is the earlier implementation's recipe run by the shell: copy the index, `git
// add`, `git write-tree`, `git ls-tree -r --full-name`, strip, SHA-1 (with `cp -p`, so that
// git's racy-timestamp check works in the reference too; see hash.ts copyIndex).

import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { hashInputs, describeInputError, changedPaths, type InputHash, type InputError } from "../../src/inputs/hash.ts";
import type { Result } from "../../src/result.ts";
import { makeGitSandbox } from "../helpers/git-env.ts";

// Where hashInputs puts its temporary index; checked to be empty after every call.
const { root: ROOT, tmp: TMP, env: ENV } = makeGitSandbox("taskrunner-inputs-test-");
const GIT = Bun.which("git") ?? "/usr/bin/git";

beforeAll(() => {
  mkdirSync(ENV.HOME as string, { recursive: true });
  mkdirSync(TMP, { recursive: true });
});
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

let dirCount = 0;
function newDir(name: string): string {
  const d = join(ROOT, `${name}-${++dirCount}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function git(cwd: string, args: string[], env: Record<string, string> = {}): Buffer {
  const r = Bun.spawnSync(["git", ...args], { cwd, env: { ...ENV, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Writes a file, making its directories; a Buffer name is a file name that need not be UTF-8. */
function write(repo: string, rel: string | Buffer, content: string): void {
  if (typeof rel !== "string") return writeFileSync(Buffer.concat([Buffer.from(`${repo}/`), rel]), content);
  mkdirSync(dirname(join(repo, rel)), { recursive: true });
  writeFileSync(join(repo, rel), content);
}

function newRepo(files: Record<string, string> = {}, initArgs: string[] = []): string {
  const repo = newDir("repo");
  git(repo, ["init", "-q", ...initArgs]);
  for (const [rel, content] of Object.entries(files)) write(repo, rel, content);
  return repo;
}

function commitAll(repo: string, message = "c"): void {
  git(repo, ["add", "-A"]);
  git(repo, ["commit", "-q", "--allow-empty", "-m", message]);
}

const te = (s: string): Uint8Array => new TextEncoder().encode(s);

async function hash(cwd: string, pathspecs: string[], raw: Uint8Array[] = [], env: Record<string, string> = {}): Promise<Result<InputHash, InputError>> {
  const r = await hashInputs({ cwd, pathspecs, raw, env: { ...ENV, ...env }, tmpDir: TMP });
  expect(readdirSync(TMP)).toEqual([]); // temporary files are gone, success or not
  return r;
}

async function hashOk(cwd: string, pathspecs: string[], raw: Uint8Array[] = [], env: Record<string, string> = {}): Promise<InputHash> {
  const r = await hash(cwd, pathspecs, raw, env);
  if (!r.ok) throw new Error(`expected a hash, got: ${describeInputError(r.error)}`);
  return r.value;
}

async function hashErr(cwd: string, pathspecs: string[], env: Record<string, string> = {}): Promise<InputError> {
  const r = await hash(cwd, pathspecs, [], env);
  if (r.ok) throw new Error(`expected an error, got hash input ${JSON.stringify(r.value.hashInput)}`);
  return r.error;
}

const REFERENCE_SCRIPT = `
set -eu
idx=$(git rev-parse --git-path index)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -e "$idx" ]; then cp -p "$idx" "$tmp/index"; fi
GIT_INDEX_FILE="$tmp/index" git add -- "$@"
tree=$(GIT_INDEX_FILE="$tmp/index" git write-tree)
git ls-tree -r --full-name "$tree" "$@"
`;

/** The earlier implementation's hash input, computed by the shell recipe. */
function reference(cwd: string, pathspecs: string[], raw: Uint8Array[] = [], env: Record<string, string> = {}): Buffer {
  const r = Bun.spawnSync(["bash", "-c", REFERENCE_SCRIPT, "reference", ...pathspecs], { cwd, env: { ...ENV, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`reference failed: ${r.stderr.toString()}`);
  // Strip surrounding ASCII white space the plain way, independently of trimSpace.
  const listing = Buffer.from(r.stdout.toString("latin1").replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, ""), "latin1");
  const parts: Uint8Array[] = [listing];
  raw.forEach((v, i) => parts.push(...(i === 0 ? [v] : [new Uint8Array([10]), v])));
  return Buffer.concat(parts);
}

const blobOf = (repo: string, rel: string): string => git(repo, ["hash-object", "--", rel]).toString().trim();
const sha1 = (b: Uint8Array): string => createHash("sha1").update(b).digest("hex");

async function expectSameAsReference(cwd: string, pathspecs: string[], raw: Uint8Array[] = [], env: Record<string, string> = {}): Promise<InputHash> {
  const mine = await hashOk(cwd, pathspecs, raw, env);
  const ref = reference(cwd, pathspecs, raw, env);
  expect(mine.hashInput).toBe(ref.toString("utf8"));
  expect(mine.hash).toBe(sha1(ref));
  return mine;
}

test("the spec example: input.txt holding foo", async () => {
  const repo = newRepo({ "input.txt": "foo\n" });
  const h = await hashOk(repo, ["input.txt"]);
  expect(h.hashInput).toBe("100644 blob 257cc5642cb1a054f08cc83f2d943e56fd3ebe99\tinput.txt");
  expect(h.listing).toBe(h.hashInput);
  expect(h.hash).toBe("6b36308659163b577fd1c832107dc46ca3aa659b");
  // Committed or not, the same content gives the same hash.
  commitAll(repo);
  expect((await hashOk(repo, ["input.txt"])).hash).toBe("6b36308659163b577fd1c832107dc46ca3aa659b");
});

test("raw values follow the listing, joined by newlines, no separator before them", async () => {
  const repo = newRepo({ "input.txt": "foo\n" });
  const h = await hashOk(repo, ["input.txt"], [te("a"), te(""), te("c\nd")]);
  const expected = "100644 blob 257cc5642cb1a054f08cc83f2d943e56fd3ebe99\tinput.txta\n\nc\nd";
  expect(h.hashInput).toBe(expected);
  expect(h.hash).toBe(sha1(te(expected)));
});

describe("what changes the hash", () => {
  test("the work tree content counts; staging or committing it does not", async () => {
    const repo = newRepo({ "d/f": "one\n", "d/g": "g\n", ".gitignore": "*.log\n" });
    commitAll(repo);
    const h0 = (await hashOk(repo, ["d"])).hash;
    write(repo, "d/f", "two\n");
    const unstaged = (await hashOk(repo, ["d"])).hash;
    expect(unstaged).not.toBe(h0);
    git(repo, ["add", "d/f"]);
    const staged = (await hashOk(repo, ["d"])).hash;
    expect(staged).toBe(unstaged);
    git(repo, ["commit", "-q", "-m", "two"]);
    const committed = (await hashOk(repo, ["d"])).hash;
    expect(committed).toBe(staged);
    // Back to the first content, unstaged: the hash is the first one again.
    write(repo, "d/f", "one\n");
    expect((await hashOk(repo, ["d"])).hash).toBe(h0);
  });

  test("a staged change, an unstaged change, an untracked file, a commit: each one changes it", async () => {
    const repo = newRepo({ "d/f": "1\n", "d/g": "g\n" });
    commitAll(repo);
    const seen = new Set([(await hashOk(repo, ["d"])).hash]);
    const step = async (what: string, change: () => void) => {
      change();
      const h = (await hashOk(repo, ["d"])).hash;
      expect({ what, fresh: !seen.has(h) }).toEqual({ what, fresh: true });
      seen.add(h);
    };
    await step("staged", () => { write(repo, "d/f", "2\n"); git(repo, ["add", "d/f"]); });
    await step("unstaged", () => write(repo, "d/g", "g2\n"));
    await step("untracked", () => write(repo, "d/new", "n\n"));
    await step("committed", () => { write(repo, "d/f", "3\n"); commitAll(repo); });
    await step("deleted", () => rmSync(join(repo, "d/g")));
    await step("made executable", () => chmodSync(join(repo, "d/f"), 0o755));
    await step("replaced by a symlink", () => { rmSync(join(repo, "d/new")); symlinkSync("f", join(repo, "d/new")); });
  });

  test("ignored files do not count, unless tracked", async () => {
    const repo = newRepo({ "d/f": "1\n", ".gitignore": "*.log\n", "d/tracked.log": "t\n" });
    git(repo, ["add", "-f", "d/tracked.log"]);
    commitAll(repo);
    const h0 = await hashOk(repo, ["d"]);
    write(repo, "d/ignored.log", "x\n");
    expect((await hashOk(repo, ["d"])).hash).toBe(h0.hash);
    write(repo, "d/tracked.log", "changed\n");
    const h1 = await hashOk(repo, ["d"]);
    expect(h1.hash).not.toBe(h0.hash);
    expect(changedPaths(h0.listing, h1.listing)).toEqual(["d/tracked.log"]);
  });

  test("a file rewritten within the index's timestamp is re-read (racy git)", async () => {
    const repo = newRepo({ f: "aaa\n" });
    // Without ctime checks the cached stat data matches exactly once mtime is put back, so
    // only git's racy-timestamp rule (entry mtime >= index mtime) makes it look at the content.
    git(repo, ["config", "core.trustctime", "false"]);
    const past = new Date("2020-01-01T00:00:00Z");
    utimesSync(join(repo, "f"), past, past);
    git(repo, ["add", "f"]);
    writeFileSync(join(repo, "f"), "bbb\n"); // same size, same inode
    utimesSync(join(repo, "f"), past, past);
    utimesSync(join(repo, ".git/index"), past, past);
    const blob = git(repo, ["hash-object", "f"]).toString().trim();
    expect((await hashOk(repo, ["f"])).hashInput).toBe(`100644 blob ${blob}\tf`);
  });
});

describe("paths", () => {
  test("pathspecs are relative to a subdirectory cwd; listed paths are full", async () => {
    const repo = newRepo({ "top.txt": "t\n", "sub/a.txt": "a\n", "sub/deeper/b.txt": "b\n", "other/c.txt": "c\n" });
    commitAll(repo);
    const fromSub = await hashOk(join(repo, "sub"), ["a.txt", "deeper", "../other"]);
    const fromTop = await hashOk(repo, ["sub/a.txt", "sub/deeper", "other"]);
    expect(fromSub).toEqual(fromTop);
    expect(fromSub.listing.split("\n").map((l) => l.split("\t")[1])).toEqual(["other/c.txt", "sub/a.txt", "sub/deeper/b.txt"]);
    expect((await hashOk(join(repo, "sub"), ["."])).listing).toContain("\tsub/deeper/b.txt");
  });

  test.each<[string, string, string]>([
    ["spaces", "with space.txt", "with space.txt"],
    ["non-ASCII", "café.txt", '"caf\\303\\251.txt"'],
    ["a newline", "new\nline", '"new\\nline"'],
    ["a tab and a quote", 'tab\t"q', '"tab\\t\\"q"'],
  ])("a file name with %s is listed as git prints it", async (_what, name, printed) => {
    const repo = newRepo({ [name]: "x\n" });
    const h = await expectSameAsReference(repo, [name]);
    expect(h.listing).toBe(`100644 blob 587be6b4c3f93f93c489c0111bba5596147a26cb\t${printed}`);
  });

  test("a glob pathspec hashes exactly the files it matches (the old ls-tree listed none of them)", async () => {
    const repo = newRepo({ "a.txt": "a\n", "d/b.txt": "b\n", "d/c.md": "c\n", "e.txt.bak": "e\n" });
    const globbed = await hashOk(repo, ["*.txt"]);
    expect(globbed.hash).toBe(sha1(reference(repo, ["a.txt", "d/b.txt"])));
    expect((await hashOk(repo, [":(glob)**/*.md"])).listing).toBe(`100644 blob ${blobOf(repo, "d/c.md")}\td/c.md`);
    // What the earlier implementation did: an empty listing, so its hash never changed.
    expect(reference(repo, ["*.txt"]).length).toBe(0);
    write(repo, "d/b.txt", "changed\n");
    expect((await hashOk(repo, ["*.txt"])).hash).not.toBe(globbed.hash);
  });

  test("an exclude pathspec leaves its files out", async () => {
    const repo = newRepo({ "d/keep": "k\n", "d/gen/out": "o\n" });
    const h = await hashOk(repo, ["d", ":!d/gen"]);
    expect(h.listing).toBe(`100644 blob ${blobOf(repo, "d/keep")}\td/keep`);
  });
});

describe("bit for bit the same as the earlier implementation", () => {
  let kitchen = "";
  beforeAll(() => {
    // One repository with every kind of entry and every kind of change.
    kitchen = newRepo({
      "input.txt": "foo\n", "a.b": "1\n", "a/c": "2\n", "a-b": "3\n", "a0": "4\n", A: "5\n", "a b/c d": "6\n",
      "z/deep/er/file": "7\n", "bin/run": "#!/bin/sh\n", "café.txt": "8\n", "tab\there": "9\n", 'quote"q': "10\n",
      "back\\slash": "11\n", "new\nline": "12\n", "trail ": "13\n", ".hidden": "14\n", "tracked.log": "15\n",
      "日本/語.txt": "16\n", ".gitignore": "*.log\nbuild/\n",
    });
    chmodSync(join(kitchen, "bin/run"), 0o755);
    symlinkSync("input.txt", join(kitchen, "link"));
    const emb = join(kitchen, "emb");
    git(kitchen, ["init", "-q", "emb"]);
    write(emb, "inner", "i\n");
    commitAll(emb);
    git(kitchen, ["add", "-f", "tracked.log"]);
    commitAll(kitchen);
    write(kitchen, "a/c", "2 staged\n");
    git(kitchen, ["add", "a/c"]);
    write(kitchen, "a.b", "1 unstaged\n");
    rmSync(join(kitchen, "a0"));
    git(kitchen, ["rm", "-q", "A"]);
    write(kitchen, "z/new", "untracked\n");
    write(kitchen, "z/ignored.log", "ignored\n");
    write(kitchen, "build/out", "ignored dir\n");
    chmodSync(join(kitchen, "a-b"), 0o755);
  });

  const fromTop: string[][] = [
    ["input.txt"], ["."], ["a"], ["a/"], ["a", "a.b", "a-b"], ["z"], ["bin", "link"], ["café.txt"], ["tab\there"],
    ["new\nline"], ["trail "], ["a b"], ["a b/c d"], [":/a"], [":(top)z"], [":(literal)a b"], ["emb"], ["tracked.log"],
    ["z/deep", "z", "z/deep/er/file"], ["./a/../a.b"], ["back\\slash", 'quote"q'], ["日本"], ["a.b", "a", "input.txt", "a-b", "emb"],
  ];
  test.each(fromTop.map((p) => [p]))("from the top: %j", async (pathspecs) => {
    await expectSameAsReference(kitchen, pathspecs);
  });

  const fromZ: string[][] = [["."], [".."], ["../a/c"], [":/input.txt"], ["deep/er"], ["new", "../a"]];
  test.each(fromZ.map((p) => [p]))("from z/: %j", async (pathspecs) => {
    await expectSameAsReference(join(kitchen, "z"), pathspecs);
  });

  test("an absolute path inside the work tree", async () => {
    await expectSameAsReference(join(kitchen, "z"), [join(kitchen, "a")]);
  });

  test("with raw values", async () => {
    await expectSameAsReference(kitchen, ["a"], [te("v1"), new Uint8Array([0xff, 0x00]), te("ü")]);
  });

  test("a repository with no index yet (fresh git init) and no commits", async () => {
    const repo = newRepo({ "f.txt": "f\n", "d/g": "g\n" });
    expect(existsSync(join(repo, ".git/index"))).toBe(false);
    await expectSameAsReference(repo, ["f.txt", "d"]);
    expect(existsSync(join(repo, ".git/index"))).toBe(false);
  });

  test("a repository with an index but no commits", async () => {
    const repo = newRepo({ "f.txt": "f\n", "g.txt": "g\n" });
    git(repo, ["add", "f.txt"]);
    await expectSameAsReference(repo, ["."]);
  });

  test("core.quotePath=false, with a file name that is not UTF-8", async () => {
    const repo = newRepo({ "café.txt": "c\n", "plain": "p\n" });
    git(repo, ["config", "core.quotePath", "false"]);
    write(repo, Buffer.from([0x6c, 0x61, 0x74, 0xe9, 0x31]), "latin-1 name\n");
    const h = await expectSameAsReference(repo, ["."]);
    expect(h.listing).toContain("\tcafé.txt");
  });

  test("a SHA-256 repository", async () => {
    const repo = newRepo({ "f": "f\n" }, ["--object-format=sha256"]);
    const h = await expectSameAsReference(repo, ["f"]);
    expect(h.hashInput).toMatch(/^100644 blob [0-9a-f]{64}\tf$/);
  });

  test("during a merge conflict", async () => {
    const repo = newRepo({ c: "base\n", other: "o\n" });
    commitAll(repo);
    git(repo, ["checkout", "-q", "-b", "side"]);
    write(repo, "c", "side\n");
    commitAll(repo);
    git(repo, ["checkout", "-q", "-"]);
    write(repo, "c", "main\n");
    commitAll(repo);
    const merge = Bun.spawnSync(["git", "merge", "-q", "side"], { cwd: repo, env: ENV, stdout: "pipe", stderr: "pipe" });
    expect(merge.exitCode).not.toBe(0);
    // The conflicted file itself: git add takes the work tree content, markers and all.
    await expectSameAsReference(repo, ["c"]);
    // Another file: the old recipe failed here (write-tree refuses an index with conflicts).
    expect((await hashOk(repo, ["other"])).listing).toBe(`100644 blob ${blobOf(repo, "other")}\tother`);
  });

  test("a linked work tree uses its own index", async () => {
    const repo = newRepo({ "f": "main\n" });
    commitAll(repo);
    const wt = join(dirname(repo), `wt-${++dirCount}`);
    git(repo, ["worktree", "add", "-q", wt]);
    write(wt, "f", "changed in the work tree\n");
    write(wt, "new", "n\n");
    const h = await expectSameAsReference(wt, ["."]);
    expect(h.listing).toContain("\tnew");
  });

  test("a linked work tree, from a subdirectory", async () => {
    const repo = newRepo({ "d/f": "main\n", "d/t.log": "t\n", ".gitignore": "*.log\n" });
    git(repo, ["add", "-f", "d/t.log"]);
    commitAll(repo);
    const wt = join(dirname(repo), `wt-${++dirCount}`);
    git(repo, ["worktree", "add", "-q", wt]);
    write(wt, "d/t.log", "tracked, ignored, changed in the work tree\n");
    const h = await expectSameAsReference(join(wt, "d"), ["."]);
    expect(h.listing).toContain(`\td/t.log`);
  });

  test("inside a submodule (a .git file with a relative gitdir), tracked-but-ignored files count", async () => {
    const sub = newRepo({ "s": "s\n", "t.log": "t\n", ".gitignore": "*.log\n" });
    git(sub, ["add", "-f", "t.log"]);
    commitAll(sub);
    const repo = newRepo({ "f": "f\n" });
    git(repo, ["-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "mod"]);
    commitAll(repo);
    expect(readFileSync(join(repo, "mod/.git"), "utf8")).toStartWith("gitdir: ../.git/modules/mod");
    write(join(repo, "mod"), "t.log", "changed\n");
    const h = await expectSameAsReference(join(repo, "mod"), ["."]);
    expect(h.listing).toContain(`100644 blob ${blobOf(join(repo, "mod"), "t.log")}\tt.log`);
  });

  test("GIT_DIR and GIT_WORK_TREE set: git finds the index", async () => {
    const repo = newRepo({ "f": "f\n", "k.log": "k\n", ".gitignore": "*.log\n" });
    git(repo, ["add", "-f", "k.log"]);
    commitAll(repo);
    write(repo, "k.log", "changed\n");
    const env = { GIT_DIR: join(repo, ".git"), GIT_WORK_TREE: repo };
    const h = await expectSameAsReference(repo, ["."], [], env);
    expect(h.listing).toContain("\tk.log");
    expect(await hashOk(repo, ["."])).toEqual(h);
  });

  test("a work tree directory holding a file named HEAD (git is asked), and a repository whose .git is not a repository", async () => {
    const repo = newRepo({ "d/HEAD": "not a ref\n", "d/f": "f\n" });
    commitAll(repo);
    await expectSameAsReference(join(repo, "d"), ["."]);
    // An empty directory named .git inside the work tree is skipped by git's discovery.
    mkdirSync(join(repo, "e/.git"), { recursive: true });
    write(repo, "e/g", "g\n");
    await expectSameAsReference(join(repo, "e"), ["."]);
  });

  test("a linked work tree whose repository path is not UTF-8 still finds its index", async () => {
    const parent = newDir("latin1");
    const setup = `set -eu
main=$(printf 'm\\351in')
mkdir "$main" && cd "$main" && git init -q && printf '*.log\\n' > .gitignore && echo t > t.log
git add .gitignore && git add -f t.log && git commit -q -m c && git worktree add -q ../wt`;
    const r = Bun.spawnSync(["bash", "-c", setup], { cwd: parent, env: ENV, stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    const wt = join(parent, "wt");
    write(wt, "t.log", "tracked, ignored, changed\n");
    // Only the copied index knows t.log is tracked; from an empty index it would be ignored.
    const h = await expectSameAsReference(wt, ["."]);
    expect(h.listing).toContain(`100644 blob ${blobOf(wt, "t.log")}\tt.log`);
  });

  test("a split index stays as it is, and git writes nothing new into .git", async () => {
    const repo = newRepo({ "f": "f\n", "d/g": "g\n" });
    commitAll(repo);
    git(repo, ["update-index", "--split-index"]);
    write(repo, "d/h", "h\n");
    const before = listGitDir(repo);
    const index = readFileSync(join(repo, ".git/index"));
    await hashOk(repo, ["."]);
    expect(listGitDir(repo)).toEqual(before);
    expect(readFileSync(join(repo, ".git/index"))).toEqual(index);
    await expectSameAsReference(repo, ["."]);
  });

  test("two thousand files in nested directories", async () => {
    const repo = newRepo();
    for (let i = 0; i < 2000; i++) write(repo, `many/${i % 7}/${i % 3 === 0 ? "x" : "y"}-${i}.txt`, `${i}\n`);
    git(repo, ["add", "many/1", "many/2"]);
    commitAll(repo);
    write(repo, "many/3/extra", "e\n");
    await expectSameAsReference(repo, ["many"]);
  });
});

// Every file under .git except objects (git add stores the blobs of new content, as before).
function listGitDir(repo: string): string[] {
  return (readdirSync(join(repo, ".git"), { recursive: true }) as string[]).filter((p) => !p.startsWith("objects")).sort();
}

describe("the real index is never touched", () => {
  test("index bytes and git status are unchanged after hashing", async () => {
    const repo = newRepo({ "a": "a\n", "d/b": "b\n" });
    commitAll(repo);
    write(repo, "a", "changed\n");
    write(repo, "d/untracked", "u\n");
    git(repo, ["add", "d/b"]);
    const status = git(repo, ["status", "--porcelain"], { GIT_OPTIONAL_LOCKS: "0" }).toString();
    const index = readFileSync(join(repo, ".git/index"));
    await hashOk(repo, ["a", "d"]);
    await hashErr(repo, ["a", "missing"]);
    expect(readFileSync(join(repo, ".git/index"))).toEqual(index);
    expect(git(repo, ["status", "--porcelain"], { GIT_OPTIONAL_LOCKS: "0" }).toString()).toBe(status);
  });

  test("GIT_INDEX_FILE (as set in pre-commit hooks) picks the index that is copied", async () => {
    const repo = newRepo({ "sub/kept.log": "tracked only in the other index\n", "sub/f": "f\n", ".gitignore": "*.log\n" });
    commitAll(repo);
    const alt = join(repo, ".git/other-index");
    writeFileSync(alt, readFileSync(join(repo, ".git/index")));
    git(repo, ["add", "-f", "sub/kept.log"], { GIT_INDEX_FILE: alt });
    const realIndex = readFileSync(join(repo, ".git/index"));
    const altIndex = readFileSync(alt);

    expect((await hashOk(repo, ["sub"])).listing).not.toContain("kept.log");
    const viaAlt = await hashOk(repo, ["sub"], [], { GIT_INDEX_FILE: alt });
    expect(viaAlt.listing).toContain("\tsub/kept.log");
    await expectSameAsReference(repo, ["sub"], [], { GIT_INDEX_FILE: alt });
    // A relative GIT_INDEX_FILE is relative to the top of the work tree, even from a subdirectory.
    expect(await hashOk(join(repo, "sub"), ["."], [], { GIT_INDEX_FILE: ".git/other-index" })).toEqual(viaAlt);

    expect(readFileSync(alt)).toEqual(altIndex);
    expect(readFileSync(join(repo, ".git/index"))).toEqual(realIndex);
  });
});

describe("raw values only", () => {
  test("git is not run at all (there is none on PATH, and no repository)", async () => {
    const nowhere = newDir("not-a-repo");
    const h = await hashOk(nowhere, [], [te("a"), te("b")], { PATH: newDir("empty-path") });
    expect(h).toEqual({ hash: sha1(te("a\nb")), hashInput: "a\nb", listing: "", via: "none" });
    // The same PATH with a pathspec does need git: proof that the call above did not run it.
    const e = await hashErr(nowhere, ["x"], { PATH: newDir("empty-path") });
    expect(e.kind).toBe("git-failed");
    expect(describeInputError(e)).toContain("git was not found on PATH");
  });

  test("values differing only in bytes that are not UTF-8 hash differently", async () => {
    const nowhere = newDir("not-a-repo");
    const a = await hashOk(nowhere, [], [new Uint8Array([0x61, 0xff])]);
    const b = await hashOk(nowhere, [], [new Uint8Array([0x61, 0xfe])]);
    expect(a.hashInput).toBe(b.hashInput); // both decode to "a\uFFFD"
    expect(a.hash).not.toBe(b.hash);
    expect(a.hash).toBe(sha1(new Uint8Array([0x61, 0xff])));
  });
});

describe("errors", () => {
  test("not a work tree", async () => {
    const nowhere = newDir("not-a-repo");
    const e = await hashErr(nowhere, ["x"]);
    expect(e.kind).toBe("not-a-work-tree");
    expect(describeInputError(e)).toContain(nowhere);
    expect(describeInputError(e)).toContain("not inside a git work tree");
  });

  test("inside the .git directory", async () => {
    const repo = newRepo({ f: "f\n" });
    const e = await hashErr(join(repo, ".git"), ["f"]);
    expect(e).toEqual({ kind: "not-a-work-tree", cwd: join(repo, ".git"), detail: "it is inside a .git directory or a bare repository" });
  });

  test("a directory that does not exist", async () => {
    const e = await hashErr(join(ROOT, "no-such-dir"), ["f"]);
    expect(e).toEqual({ kind: "not-a-work-tree", cwd: join(ROOT, "no-such-dir"), detail: "the directory does not exist" });
  });

  test("a pathspec that matches nothing", async () => {
    const repo = newRepo({ "docs/a": "a\n" });
    const e = await hashErr(join(repo, "docs"), ["a", "x"]);
    expect(e).toEqual({ kind: "no-match", pathspec: "x", cwd: join(repo, "docs") });
    expect(describeInputError(e)).toBe(`snapshot: input "x" matches no files (in ${join(repo, "docs")}); check the path (relative to that directory) or create the file`);
  });

  test("a glob that matches nothing", async () => {
    const repo = newRepo({ "a.txt": "a\n" });
    expect(await hashErr(repo, ["*.md"])).toEqual({ kind: "no-match", pathspec: "*.md", cwd: repo });
  });

  test("an empty directory, or one with only ignored files", async () => {
    const repo = newRepo({ "a": "a\n", ".gitignore": "*.log\n", "logs/x.log": "l\n" });
    mkdirSync(join(repo, "empty"));
    expect(await hashErr(repo, ["a", "empty"])).toEqual({ kind: "no-match", pathspec: "empty", cwd: repo, exists: true });
    expect(await hashErr(repo, ["logs"])).toEqual({ kind: "no-match", pathspec: "logs", cwd: repo, exists: true });
  });

  test("a tracked file deleted from the work tree", async () => {
    const repo = newRepo({ "a": "a\n", "gone": "g\n" });
    commitAll(repo);
    rmSync(join(repo, "gone"));
    // The old recipe listed nothing for it while the deletion was uncommitted, and failed once
    // it was committed; both are "matches no files" now.
    expect(await hashErr(repo, ["a", "gone"])).toEqual({ kind: "no-match", pathspec: "gone", cwd: repo, exists: false });
    commitAll(repo);
    expect(await hashErr(repo, ["a", "gone"])).toEqual({ kind: "no-match", pathspec: "gone", cwd: repo });
    // Deleting a file under a directory input just changes the hash.
    expect((await hashOk(repo, ["."])).listing).not.toContain("gone");
  });

  test("an ignored file named on its own", async () => {
    const repo = newRepo({ "a": "a\n", ".gitignore": "*.log\n", "x.log": "l\n" });
    const e = await hashErr(repo, ["a", "x.log"]);
    expect(e).toEqual({ kind: "no-match", pathspec: "x.log", cwd: repo, exists: true, ignored: ["x.log"] });
    expect(describeInputError(e)).toContain('input "x.log" matches no files');
    expect(describeInputError(e)).toContain("ignored");
  });

  test("an ignored directory still counts its tracked files", async () => {
    const repo = newRepo({ "build/tracked": "t\n" });
    commitAll(repo);
    write(repo, ".gitignore", "build/\n");
    write(repo, "build/untracked", "u\n");
    const h = await hashOk(repo, ["build"]);
    expect(h.listing).toBe(`100644 blob ${blobOf(repo, "build/tracked")}\tbuild/tracked`);
  });

  test("outside the repository", async () => {
    const repo = newRepo({ "sub/a": "a\n" });
    const e = await hashErr(join(repo, "sub"), ["../../x"]);
    expect(e.kind).toBe("outside-repo");
    if (e.kind === "outside-repo") expect(e.pathspec).toBe("../../x");
    expect(describeInputError(e)).toContain('input "../../x" is outside the git work tree');
    expect((await hashErr(repo, ["/etc/passwd"])).kind).toBe("outside-repo");
  });

  test("a path inside a submodule", async () => {
    const repo = newRepo({ "f": "f\n" });
    git(repo, ["init", "-q", "emb"]);
    write(join(repo, "emb"), "inner", "i\n");
    commitAll(join(repo, "emb"));
    commitAll(repo);
    const e = await hashErr(repo, ["emb/inner"]);
    expect(e.kind).toBe("git-failed");
    expect(describeInputError(e)).toContain("is in submodule 'emb'");
    // The submodule itself is an input: its commit.
    expect((await hashOk(repo, ["emb"])).listing).toMatch(/^160000 commit [0-9a-f]{40}\temb$/);
  });
});

describe("processes and parallel use", () => {
  test("two git processes with pathspecs in a plain repository, three when git must find the index, none without", async () => {
    const repo = newRepo({ "f": "f\n" });
    const bin = newDir("counting-git");
    const log = join(bin, "log");
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$1" >> "${log}"\nexec "${GIT}" "$@"\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    const calls = () => {
      const c = readFileSync(log, "utf8").trim().split("\n");
      rmSync(log);
      return c;
    };
    const plain = await hashOk(repo, ["f"], [], env);
    expect(calls()).toEqual(["-c", "ls-files"]);
    // GIT_INDEX_FILE (pre-commit hooks): git is asked where the index is, and the hash is the same.
    expect(await hashOk(repo, ["f"], [], { ...env, GIT_INDEX_FILE: join(repo, ".git/index") })).toEqual(plain);
    expect(calls()).toEqual(["rev-parse", "-c", "ls-files"]);
    await hashOk(repo, [], [te("x")], env);
    expect(existsSync(log)).toBe(false);
  });

  test("parallel hashes in one repository do not interfere", async () => {
    const repo = newRepo({ "a/1": "1\n", "b/2": "2\n", "c/3": "3\n", "d": "d\n" });
    commitAll(repo);
    write(repo, "a/new", "n\n");
    write(repo, "b/2", "changed\n");
    const sets = [["a"], ["b"], ["c"], ["d"], ["."], ["a", "b"], ["c", "d"], ["a"]];
    const sequential: InputHash[] = [];
    for (const s of sets) sequential.push(await hashOk(repo, s));
    const parallel = await Promise.all(sets.map((s) => hashInputs({ cwd: repo, pathspecs: s, raw: [], env: ENV, tmpDir: TMP })));
    expect(parallel).toEqual(sequential.map((value) => ({ ok: true, value })));
    expect(readdirSync(TMP)).toEqual([]);
  });

  test("the temporary directory is created if missing", async () => {
    const repo = newRepo({ "f": "f\n" });
    const tmp = join(newDir("tmp-parent"), "state", "tmp");
    const r = await hashInputs({ cwd: repo, pathspecs: ["f"], raw: [], env: ENV, tmpDir: tmp });
    expect(r.ok).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
