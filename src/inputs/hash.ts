// Input hashing (SPEC §5 "Decision"): the only place that runs git for inputs.
//
// hash input = trimmed listing of the pathspecs as `git ls-tree -r --full-name` prints it for
// a tree made from a temporary copy of the index with the pathspecs `git add`ed, immediately
// followed by the --raw values joined with "\n"; hash = hex SHA-1 of those bytes. The hashes
// are remote-cache keys shared with the earlier implementation, so they must match it bit for
// bit. Git runs two processes (add, list), plus a probe when the index cannot be found without
// git (find-index.ts); on the no-op path the stat shortcut (stat-memo.ts) usually answers
// instead, from the listing git gave last time for the same files.

import { constants, copyFileSync, existsSync, mkdirSync, rmSync, statSync, utimesSync } from "../sys/fs.ts";
import { findIndex } from "./find-index.ts";
import { dirname, isAbsolute, join, resolve } from "../sys/path.ts";
import { statScope, type StatScope } from "./stat-scope.ts";
import { DEFAULT_MEMO_OPTIONS, fingerprintBefore, lookupMemo, memoQuestion, recordMemo, rehearse, type MemoOptions } from "./stat-memo.ts";
import { type Result, ok, err } from "../result.ts";
import { runGit } from "./run-git.ts";
import type { Trace } from "../trace/spans.ts";
import { joinBytes } from "../output/lines.ts";
import {
  type GitCommand,
  type InputError,
  addCommand,
  classifyAddFailure,
  classifyListFailure,
  classifyProbeFailure,
  displayCommand,
  listCommand,
  parseIgnoredReport,
  parseProbe,
  probeCommand,
  stagedToTreeListing,
  trimSpace,
} from "./git-commands.ts";

export type { InputError } from "./git-commands.ts";
export { changedPaths, describeInputError } from "./git-commands.ts";

/** A computed input hash; `hashInput` is the hashed bytes decoded as UTF-8, `listing` the trimmed file listing. */
export interface InputHash {
  hash: string;
  hashInput: string;
  listing: string;
  /** Where the listing came from: git, the stat memo (no git run), or nowhere (no pathspecs). */
  via: "git" | "memo" | "none";
  /** Why the stat shortcut does not apply to these inputs, if it was tried and declined. */
  declined?: string;
}

/** What to hash, where, and with which environment for git. */
export interface HashInputsOptions {
  /** The directory pathspecs are relative to (may be a subdirectory of the work tree). */
  cwd: string;
  pathspecs: string[];
  raw: Uint8Array[];
  /** The environment git runs with (the task's); GIT_INDEX_FILE in it picks the index to copy. */
  env: Record<string, string | undefined>;
  /** Where the temporary index goes (the OS temp dir or the state dir). */
  tmpDir: string;
  /** The task's stat memo (stat-memo.ts), or null to always ask git. */
  memo?: { path: string; options: MemoOptions } | null;
  /** The invocation's trace, which gets a `hashing` span. */
  trace?: Trace;
}


/** The memo option for a task's memo file with the default settings, or null when the shortcut is off. */
export function memoOf(path: string | null): HashInputsOptions["memo"] {
  return path === null ? null : { path, options: DEFAULT_MEMO_OPTIONS };
}

/**
 * Rehearses the stat shortcut for the question the task's memo last answered, while the task's
 * bash starts and the runner would only wait: the code of the hit path is then loaded and warm
 * when the real `snapshot` arrives (measured: the hash of a one-file no-op in 0.3 ms instead of
 * 1 ms). Nothing of it is kept or written: files may change before `snapshot` is called, so the
 * real call walks again. Only small listings are rehearsed; a big walk would delay the answer.
 */
export function warmUp(memoPath: string | null, env: Record<string, string | undefined>): void {
  if (memoPath === null) return;
  try {
    const question = memoQuestion(memoPath, REHEARSED_FILES);
    if (question === null) return;
    const opts: HashInputsOptions = { cwd: question.cwd, pathspecs: question.pathspecs, raw: [], env, tmpDir: "", memo: memoOf(memoPath) };
    const gitVars = gitEnv(env);
    const scope = memoScope(opts, findIndex(resolve(question.cwd), gitVars), gitVars);
    // Bounded: ignored files under a small input would make the walk long.
    if (scope !== null) rehearse(scope, { ...DEFAULT_MEMO_OPTIONS, maxEntries: REHEARSED_FILES * 4 });
    finish(new Uint8Array(0), new Uint8Array(0), "memo");
  } catch {
    // Only a rehearsal.
  }
}

const REHEARSED_FILES = 64;

/** Hashes the inputs of a `snapshot` call; git is run only when there are pathspecs. */
export function hashInputs(opts: HashInputsOptions): Promise<Result<InputHash, InputError>> {
  return opts.trace === undefined ? hashUntraced(opts) : opts.trace.timed("hashing", () => hashUntraced(opts));
}

async function hashUntraced(opts: HashInputsOptions): Promise<Result<InputHash, InputError>> {
  const raw = joinBytes(opts.raw, 10);
  if (opts.pathspecs.length === 0) return ok(finish(new Uint8Array(0), raw, "none"));
  const env = gitEnv(opts.env);
  const found = findIndex(resolve(opts.cwd), env);
  const memo = opts.memo ?? null;
  const scope = memo === null ? null : memoScope(opts, found, env);
  const looked = scope !== null && memo !== null ? lookupMemo(memo.path, scope, memo.options) : null;
  if (looked?.kind === "hit") return ok(finish(looked.listing, raw, "memo"));
  // Taken before git reads anything: what changes while git runs must not be recorded as seen.
  const before = looked?.kind === "miss" && scope !== null && memo !== null ? fingerprintBefore(memo.path, scope, memo.options, looked.walked) : null;
  const listed = await listPathspecs(opts, env, found);
  if (!listed.ok) return listed;
  if (before?.ok && scope !== null && memo !== null) recordMemo(memo.path, scope, before.value, listed.value, memo.options);
  const hashed = finish(listed.value, raw, "git");
  // Set, not spread: a spread would decode the lazy texts.
  const declined = looked?.kind === "declined" ? looked.reason : before?.ok === false ? before.error : undefined;
  if (declined !== undefined) hashed.declined = declined;
  return ok(hashed);
}

// The shortcut needs the `.git` directory of a plain work tree, found without git.
function memoScope(opts: HashInputsOptions, found: Buffer | null, env: Record<string, string>): StatScope | null {
  // A path that is not UTF-8 would be watched under a mangled name, where nothing ever changes.
  const index = found !== null && Buffer.from(found.toString("utf8")).equals(found) ? found.toString("utf8") : null;
  const gitDir = index !== null && index.endsWith("/.git/index") ? dirname(index) : null;
  const scope = statScope({ cwd: resolve(opts.cwd), gitDir, pathspecs: opts.pathspecs, env });
  if (!scope.ok) return null;
  // A state directory inside the inputs changes on every run (logs, the memo itself): the
  // shortcut could never hit, and would walk twice each time for nothing.
  const memoPath = resolve(opts.memo?.path ?? "");
  const inside = scope.value.targets.some((t) => memoPath.startsWith(`${join(scope.value.root, t)}/`));
  return inside ? null : scope.value;
}

// The texts are decoded when first read: a skip only compares the hash, and for 10,000 files
// the two decodings cost a millisecond (at 100,000, ten).
function finish(listing: Uint8Array, raw: Uint8Array, via: InputHash["via"]): InputHash {
  const input = Buffer.concat([listing, raw]);
  let hashInput: string | undefined;
  let listingText: string | undefined;
  return {
    hash: new Bun.CryptoHasher("sha1").update(input).digest("hex"),
    get hashInput() {
      return (hashInput ??= input.toString("utf8"));
    },
    get listing() {
      return (listingText ??= text(listing));
    },
    via,
  };
}

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("utf8");

/** The trimmed listing bytes of the pathspecs, or why there is none. */
async function listPathspecs(opts: HashInputsOptions, env: Record<string, string>, found: Buffer | null): Promise<Result<Uint8Array, InputError>> {
  const index = found !== null ? ok(found) : await locateIndex(opts.cwd, env);
  if (!index.ok) return index;

  const tmpIndex = tempIndexPath(opts.tmpDir);
  try {
    copyIndex(index.value, tmpIndex, opts.tmpDir);
    const tmpEnv = { ...env, GIT_INDEX_FILE: tmpIndex };
    const run = (cmd: GitCommand) => runGit(cmd, opts.cwd, cmd.tempIndex ? tmpEnv : env);
    const ignored: string[] = [];

    const addCmd = addCommand(opts.pathspecs);
    const added = await run(addCmd);
    if ("spawnError" in added) return err(spawnFailure(added.spawnError, addCmd, opts.cwd));
    if (added.code !== 0) {
      // Exit 1 with only the "paths are ignored" report: git staged everything else, and an
      // ignored path is simply not an input. ls-files below says if a pathspec is left empty.
      const report = added.code === 1 ? parseIgnoredReport(added.stderr) : null;
      if (report === null) return err(withCwd(classifyAddFailure(added.stderr, opts.pathspecs, displayCommand(addCmd)), opts.cwd));
      ignored.push(...report);
    }

    const listCmd = listCommand(opts.pathspecs);
    const listed = await run(listCmd);
    if ("spawnError" in listed) return err(spawnFailure(listed.spawnError, listCmd, opts.cwd));
    if (listed.code !== 0) {
      const e = withCwd(classifyListFailure(listed.stderr, opts.pathspecs, displayCommand(listCmd)), opts.cwd);
      return err(e.kind === "no-match" ? explainNoMatch(e, opts.cwd, ignored) : e);
    }
    const tree = stagedToTreeListing(listed.stdout);
    if (!tree.ok) return err({ kind: "git-failed", command: displayCommand(listCmd), detail: tree.error });
    return ok(trimSpace(tree.value));
  } finally {
    // git writes `<index>.lock` and renames it over the index; after a crash the lock remains.
    for (const f of [tmpIndex, `${tmpIndex}.lock`]) rmSync(f, { force: true });
  }
}

/**
 * The index git would use when find-index.ts could not tell, as bytes. Plain repositories,
 * linked work trees and submodules are found by looking for `.git` (find-index.ts); everything else (GIT_INDEX_FILE from a pre-commit
 * hook, GIT_DIR, a bare repository, not a repository at all) is asked of git, whose answer and
 * errors are then the reference.
 */
async function locateIndex(cwd: string, env: Record<string, string>): Promise<Result<Buffer, InputError>> {
  const probeCmd = probeCommand();
  const probed = await runGit(probeCmd, cwd, env);
  if ("spawnError" in probed) return err(spawnFailure(probed.spawnError, probeCmd, cwd));
  if (probed.code !== 0) return err(classifyProbeFailure(probed.stderr, cwd, displayCommand(probeCmd)));
  const probe = parseProbe(Buffer.from(probed.stdout).toString("latin1"));
  if (probe === null) return err({ kind: "git-failed", command: displayCommand(probeCmd), detail: `unexpected output: ${JSON.stringify(text(probed.stdout))}` });
  if (!probe.insideWorkTree) return err({ kind: "not-a-work-tree", cwd, detail: "it is inside a .git directory or a bare repository" });
  return ok(indexPathBytes(cwd, probe.indexPath));
}

// Git's messages are parsed (which pathspec matched nothing, which is outside the repository),
// so they must be untranslated. LANGUAGE only selects message catalogs: unlike LC_ALL it
// changes nothing else for git or the clean filters it runs, so nothing that reaches the hash.
function gitEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  out.LANGUAGE = "C";
  return out;
}

function withCwd(e: InputError, cwd: string): InputError {
  return e.kind === "no-match" || e.kind === "outside-repo" ? { ...e, cwd } : e;
}

// Only for the message: whether the path is on disk (then it is empty or all ignored; if not,
// it was deleted), and what git reported as ignored. Magic pathspecs name no single path.
function explainNoMatch(e: InputError & { kind: "no-match" }, cwd: string, ignored: string[]): InputError {
  const exists = e.pathspec.startsWith(":") ? undefined : existsSync(resolve(cwd, e.pathspec));
  return {
    ...e,
    ...(exists === undefined ? {} : { exists }),
    ...(ignored.length > 0 ? { ignored } : {}),
  };
}

// The index path as bytes: a path that is not UTF-8 (a linked work tree under such a
// directory) would be mangled as a string, the copy would then find nothing, and git would start
// from an empty index, losing tracked-but-ignored files from the listing.
function indexPathBytes(cwd: string, latin1Path: string): Buffer {
  const path = Buffer.from(latin1Path, "latin1");
  return isAbsolute(latin1Path) ? path : Buffer.concat([Buffer.from(`${resolve(cwd)}/`), path]);
}

// A file per call, named so that parallel hashes (other processes, other tasks) cannot collide:
// the pid tells processes apart, the counter calls of one process, the random part a pid
// reused after a crash that left a file behind (the copy refuses to overwrite one). A file
// rather than a directory of its own: no mkdir and recursive removal on the no-op path. Not
// node:crypto for the random part: importing it costs 1.5 ms of start-up.
let tempCount = 0;
function tempIndexPath(tmpDir: string): string {
  const random = Math.floor(Math.random() * 2 ** 48).toString(36);
  return join(tmpDir, `taskrunner-index-${process.pid}-${++tempCount}-${random}`);
}

/**
 * Copies the index git would use. A repository without an index yet (fresh `git init`) gets
 * none: git treats a missing index file as empty.
 *
 * The copy keeps the original's modification time, pushed 1 ms earlier. Git trusts an entry's
 * cached stat data only when the file's mtime is older than the index file's ("racy git"); a
 * copy stamped "now" would make entries that are racy in the real index look clean, and a file
 * rewritten in the same instant with the same size would be hashed with its old content: a
 * false "unchanged". An earlier stamp only makes git re-read more files, never fewer.
 */
function copyIndex(from: Buffer, to: string, tmpDir: string): void {
  let mtimeNs: bigint;
  let atimeNs: bigint;
  try {
    const st = statSync(from);
    mtimeNs = st.mtimeNs;
    atimeNs = st.atimeNs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    // No index to copy: git will create one next to `to`, so its directory must exist.
    mkdirSync(tmpDir, { recursive: true });
    return;
  }
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" || existsSync(tmpDir)) throw e;
    mkdirSync(tmpDir, { recursive: true });
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  }
  const earlierMs = Math.max(0, Number(mtimeNs / 1_000_000n) - 1);
  utimesSync(to, Number(atimeNs / 1_000_000n) / 1000, earlierMs / 1000);
}

function spawnFailure(e: Error, cmd: GitCommand, cwd: string): InputError {
  if (!existsSync(cwd)) return { kind: "not-a-work-tree", cwd, detail: "the directory does not exist" };
  const notFound = (e as NodeJS.ErrnoException).code === "ENOENT";
  return { kind: "git-failed", command: displayCommand(cmd), detail: notFound ? "git was not found on PATH; install git or fix PATH" : e.message };
}
