// The pure half of input hashing (SPEC §5 "Decision"): which git commands run, how their output
// and their failures are read, and how failures are told to the user. hash.ts runs them.

/** Why the file inputs could not be hashed; each member is an expected, user-fixable failure. */
export type InputError =
  /** Pathspecs were given but `cwd` is not inside a git work tree. */
  | { kind: "not-a-work-tree"; cwd: string; detail: string }
  /**
   * A pathspec matched no file that git would track. Set only when git accepted the path but
   * it held nothing: `exists` tells whether it is on disk (an empty directory, only ignored
   * files) or not (deleted); `ignored` lists the paths git reported as ignored, if any.
   */
  | { kind: "no-match"; pathspec: string; cwd?: string; ignored?: string[]; exists?: boolean }
  /** A pathspec points outside the work tree (`../../x`, `/etc/passwd`). */
  | { kind: "outside-repo"; pathspec: string; detail: string; cwd?: string }
  /** Anything else git refused; `detail` is git's stderr, trimmed. */
  | { kind: "git-failed"; command: string; detail: string };

/** One git invocation as data: its arguments, and whether it runs against the temporary index. */
export interface GitCommand {
  args: string[];
  /** True when the command must see `GIT_INDEX_FILE` pointing at the temporary index copy. */
  tempIndex: boolean;
}

/**
 * Finds out, in one process, whether `cwd` is in a work tree and which index git would use.
 * `--git-path index` honours a caller's `GIT_INDEX_FILE` (pre-commit hooks set it) and linked
 * work trees; it prints the path relative to the current directory.
 */
export function probeCommand(): GitCommand {
  return { args: ["rev-parse", "--is-inside-work-tree", "--git-path", "index"], tempIndex: false };
}

/**
 * Stages the pathspecs into the temporary index: tracked, modified, deleted and untracked (not
 * ignored) files under them. Plain `git add` as the earlier implementation ran it, with two
 * settings pinned:
 * - `core.splitIndex=false`: a split index would make git write a new `sharedindex.*` file
 *   into the repository's .git (and expire old ones); unsplitting writes only our copy.
 * - `advice.addIgnoredFile=true`: the "paths are ignored" report then always ends with hint
 *   lines, which lets parseIgnoredReport tell where the list of ignored paths stops.
 */
export function addCommand(pathspecs: string[]): GitCommand {
  return {
    args: ["-c", "core.splitIndex=false", "-c", "advice.addIgnoredFile=true", "add", "--", ...pathspecs],
    tempIndex: true,
  };
}

/**
 * Lists the staged entries under the pathspecs. The earlier implementation ran `git write-tree`
 * and `git ls-tree -r --full-name <tree> <pathspecs>`; `ls-files --stage` prints the same
 * entries in the same order (index order is tree order) with the same path quoting, so
 * stagedToTreeListing can rebuild ls-tree's text exactly, saving a process and the tree objects
 * write-tree would store. Deliberate differences, all where the old way was broken:
 * - ls-tree does not expand wildcards (`*.txt` listed nothing, so the hash never changed) and
 *   refuses most pathspec magic; ls-files matches pathspecs exactly as `git add` just did.
 * - `--error-unmatch` reports, per pathspec, one that matched no file (an empty directory,
 *   only ignored files, a deleted file), which `git add` lets pass.
 * - A merge conflict in a file outside the pathspecs no longer fails the hash (write-tree
 *   refuses an index with conflicts anywhere).
 */
export function listCommand(pathspecs: string[]): GitCommand {
  return { args: ["ls-files", "--stage", "--full-name", "--error-unmatch", "--", ...pathspecs], tempIndex: true };
}

/** The command as a user would type it, for messages (pinned `-c` settings left out). */
export function displayCommand(cmd: GitCommand): string {
  const shown: string[] = [];
  for (let i = 0; i < cmd.args.length; i++) {
    const a = cmd.args[i] as string;
    if (a === "-c" && i + 1 < cmd.args.length && shown.length === 0) {
      i++;
      continue;
    }
    shown.push(/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a));
  }
  return ["git", ...shown].join(" ");
}

/** What the probe found: whether cwd is in a work tree, and the index path (relative to cwd). */
export interface Probe {
  insideWorkTree: boolean;
  indexPath: string;
}

/**
 * Reads probeCommand's output: `true`/`false`, newline, the index path, newline. Give it the
 * output decoded as latin1, so that a path that is not UTF-8 maps back to its exact bytes.
 */
export function parseProbe(stdout: string): Probe | null {
  const nl = stdout.indexOf("\n");
  if (nl < 0) return null;
  const flag = stdout.slice(0, nl);
  // The path is printed as is (not quoted), so it may itself hold a newline: only the final
  // line terminator is stripped.
  const indexPath = stdout.endsWith("\n") ? stdout.slice(nl + 1, -1) : stdout.slice(nl + 1);
  if ((flag !== "true" && flag !== "false") || indexPath === "") return null;
  return { insideWorkTree: flag === "true", indexPath };
}

const TAB = 9;
const NL = 10;
const SPACE = 32;
const DIGIT_0 = 48;
const BLOB = Buffer.from(" blob ");
const COMMIT = Buffer.from(" commit ");
const TREE_MODES: readonly [Buffer, Buffer][] = [
  [Buffer.from("100644"), BLOB],
  [Buffer.from("100755"), BLOB],
  [Buffer.from("120000"), BLOB],
  [Buffer.from("160000"), COMMIT], // a submodule (gitlink)
];

/**
 * Rewrites `ls-files --stage` output (`<mode> <object> <stage>\t<path>` lines) into the text
 * `ls-tree -r` prints for the same entries (`<mode> <type> <object>\t<path>`). Works on bytes,
 * so paths are copied as git printed them, whatever their encoding or quoting. It runs over
 * every input file on the no-op path, hence a byte loop with no per-line allocation (splitting
 * strings took 2.6 ms for 10,000 files, this about 1 ms).
 * Fails on an entry git would not have put in a tree (an unmerged stage, a sparse-directory
 * entry), where the earlier write-tree would have failed.
 */
export function stagedToTreeListing(staged: Uint8Array): { ok: true; value: Uint8Array } | { ok: false; error: string } {
  const src = Buffer.from(staged.buffer, staged.byteOffset, staged.length);
  let lines = 0;
  for (let i = src.indexOf(NL); i >= 0; i = src.indexOf(NL, i + 1)) lines++;
  // Per line " commit " at most replaces " 0 ": five more bytes; plus a final newline if git
  // left it out.
  const out = Buffer.allocUnsafe(src.length + 5 * (lines + 1) + 1);
  let w = 0;
  let pos = 0;
  while (pos < src.length) {
    let end = src.indexOf(NL, pos);
    if (end < 0) end = src.length;
    // Header: six mode digits, space, object name, space, stage digit, tab.
    const sp2 = src.indexOf(SPACE, pos + 7);
    const tab = sp2 + 2;
    if (src[pos + 6] !== SPACE || sp2 < 0 || tab >= end || src[tab] !== TAB || !isDigit(src[sp2 + 1])) {
      return { ok: false, error: `unexpected ls-files line: ${lineText(src, pos, end)}` };
    }
    if (src[sp2 + 1] !== DIGIT_0) {
      return { ok: false, error: `unmerged entry (stage ${src.toString("latin1", sp2 + 1, sp2 + 2)}): ${lineText(src, pos, end)}; resolve the conflict first` };
    }
    const word = typeWord(src, pos);
    if (word === null) return { ok: false, error: `unexpected entry mode ${src.toString("latin1", pos, pos + 6)}: ${lineText(src, pos, end)}` };
    // The short fields byte by byte: a Buffer.copy call costs more than six byte stores.
    for (let i = pos; i < pos + 6; i++) out[w++] = src[i] as number;
    for (let i = 0; i < word.length; i++) out[w++] = word[i] as number;
    w += src.copy(out, w, pos + 7, sp2);
    w += src.copy(out, w, tab, end);
    out[w++] = NL;
    pos = end + 1;
  }
  return { ok: true, value: out.subarray(0, w) };
}

function typeWord(src: Buffer, at: number): Buffer | null {
  // Byte comparisons, not Buffer.compare: this runs once per listed file.
  for (const [mode, word] of TREE_MODES) {
    let i = 0;
    while (i < 6 && src[at + i] === mode[i]) i++;
    if (i === 6) return word;
  }
  return null;
}

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= DIGIT_0 && b <= DIGIT_0 + 9;

function lineText(src: Buffer, from: number, to: number): string {
  return JSON.stringify(src.toString("utf8", from, to));
}

// UTF-8 encodings of the non-ASCII characters Haskell's Data.Char.isSpace accepts: U+00A0 and
// the Unicode space separators (category Zs).
const UNICODE_SPACES: readonly (readonly number[])[] = [
  [0xc2, 0xa0],
  [0xe1, 0x9a, 0x80],
  ...Array.from({ length: 11 }, (_, i) => [0xe2, 0x80, 0x80 + i]), // U+2000..U+200A
  [0xe2, 0x80, 0xaf],
  [0xe2, 0x81, 0x9f],
  [0xe3, 0x80, 0x80],
];

const isAsciiSpace = (b: number | undefined): boolean => b === SPACE || (b !== undefined && b >= 9 && b <= 13);

function spaceAt(b: Uint8Array, at: number, end: number): number {
  if (isAsciiSpace(b[at])) return 1;
  for (const seq of UNICODE_SPACES) {
    if (at + seq.length <= end && seq.every((x, i) => b[at + i] === x)) return seq.length;
  }
  return 0;
}

function spaceEndingAt(b: Uint8Array, end: number, start: number): number {
  if (isAsciiSpace(b[end - 1])) return 1;
  for (const seq of UNICODE_SPACES) {
    const at = end - seq.length;
    if (at >= start && seq.every((x, i) => b[at + i] === x)) return seq.length;
  }
  return 0;
}

/**
 * Removes surrounding white space from the listing bytes exactly as the earlier implementation
 * did (Haskell `Data.Text.strip`, i.e. `isSpace`): ASCII tab, newline, vertical tab, form feed,
 * carriage return and space, plus Unicode space separators. With git's default quoting the
 * listing is ASCII and this only drops the final newline (and any trailing spaces of the last
 * path, which git does not quote); with `core.quotePath=false` a last path ending in, say,
 * U+3000 loses it too, as it did before.
 */
export function trimSpace(b: Uint8Array): Uint8Array {
  let start = 0;
  let end = b.length;
  for (let n = spaceAt(b, start, end); n > 0 && start < end; n = spaceAt(b, start, end)) start += n;
  for (let n = spaceEndingAt(b, end, start); n > 0 && end > start; n = spaceEndingAt(b, end, start)) end -= n;
  return b.subarray(start, end);
}

const IGNORED_HEADER = "The following paths are ignored by one of your .gitignore files:";

/**
 * Reads the stderr of a `git add` that exited with 1. Returns the ignored paths when the only
 * complaint is git's "paths are ignored" report (git then still staged everything else);
 * returns null when there is anything else, such as `error:` lines from `add.ignoreErrors` or
 * the sparse-checkout report, since then files may have been left out of the index.
 */
export function parseIgnoredReport(stderr: string): string[] | null {
  const lines = stderr.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const ignored: string[] = [];
  let state: "before" | "paths" | "after" = "before";
  for (const line of lines) {
    const hint = line.startsWith("hint:");
    const warning = line.startsWith("warning:");
    if (state === "before") {
      if (line === IGNORED_HEADER) state = "paths";
      else if (!hint && !warning) return null;
    } else if (state === "paths") {
      // The list always ends with hint lines (advice.addIgnoredFile is forced on).
      if (hint) state = "after";
      else ignored.push(line);
    } else if (!hint && !warning) {
      return null;
    }
  }
  return state === "after" && ignored.length > 0 ? ignored : null;
}

/** The first pathspec git names in `... pathspec '<p>' <what>`, or null. */
function namedPathspec(stderr: string, pathspecs: string[], what: string): string | null {
  for (const p of pathspecs) if (stderr.includes(`pathspec '${p}' ${what}`)) return p;
  return null;
}

/** Turns a failed `git add` into the error the user sees. */
export function classifyAddFailure(stderr: string, pathspecs: string[], command: string): InputError {
  const missing = namedPathspec(stderr, pathspecs, "did not match any files");
  if (missing !== null) return { kind: "no-match", pathspec: missing };
  const outside = pathspecs.find((p) => stderr.includes(`'${p}' is outside repository`));
  if (outside !== undefined) return { kind: "outside-repo", pathspec: outside, detail: stderr.trim() };
  return { kind: "git-failed", command, detail: stderr.trim() };
}

/**
 * Turns a failed `git ls-files --error-unmatch` into the error the user sees. `git add`
 * accepted the pathspec, yet it matched nothing: an empty directory, only ignored files, or a
 * tracked file deleted from the work tree (the earlier implementation let that one through,
 * but not once the deletion was committed; refusing both is the consistent choice).
 */
export function classifyListFailure(stderr: string, pathspecs: string[], command: string): InputError {
  const unmatched = namedPathspec(stderr, pathspecs, "did not match any file(s) known to git");
  if (unmatched === null) return { kind: "git-failed", command, detail: stderr.trim() };
  return { kind: "no-match", pathspec: unmatched };
}

/** Turns a failed or negative probe into the error the user sees. */
export function classifyProbeFailure(stderr: string, cwd: string, command: string): InputError {
  if (/not a git repository/i.test(stderr)) return { kind: "not-a-work-tree", cwd, detail: oneLine(stderr) };
  return { kind: "git-failed", command, detail: stderr.trim() };
}

/** Squeezes multi-line git output onto one line for a message, without git's `fatal:`/`error:` labels. */
export function oneLine(text: string): string {
  return text
    .trim()
    .split(/\s*\n\s*/)
    .map((line) => line.replace(/^(fatal|error): /, ""))
    .join("; ");
}

/** The one-line error shown to users: what went wrong, which path, what to do. */
export function describeInputError(e: InputError): string {
  switch (e.kind) {
    case "not-a-work-tree":
      return `snapshot: cannot hash input files: ${e.cwd} is not inside a git work tree (${oneLine(e.detail)}); run the task in a git checkout, or pass values that are not files with --raw`;
    case "no-match": {
      const where = e.cwd === undefined ? "" : ` (in ${e.cwd})`;
      const input = `snapshot: input ${JSON.stringify(e.pathspec)} matches no files${where}`;
      if (e.ignored !== undefined && e.ignored.length > 0) {
        return `${input}: git ignores ${e.ignored.map((p) => JSON.stringify(p)).join(", ")} (.gitignore), and ignored files are not inputs; stop ignoring it or remove it from the inputs`;
      }
      if (e.exists === true) {
        return `${input}: it exists but holds no file git would track (an empty directory, or only ignored files); add a file to it or remove it from the inputs`;
      }
      return `${input}; check the path (relative to that directory) or create the file`;
    }
    case "outside-repo": {
      const where = e.cwd === undefined ? "" : ` (from ${e.cwd})`;
      return `snapshot: input ${JSON.stringify(e.pathspec)} is outside the git work tree${where}: ${oneLine(e.detail)}; inputs must be files inside the repository (pass other values with --raw)`;
    }
    case "git-failed":
      return `snapshot: hashing input files failed: \`${e.command}\` said: ${oneLine(e.detail) || "(no message)"}`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}

/** Splits a listing into path -> entry (mode, type and object), keyed by the path as printed. */
function entries(listing: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of listing.split("\n")) {
    if (line === "") continue;
    const tab = line.indexOf("\t");
    if (tab < 0) map.set(line, "");
    else map.set(line.slice(tab + 1), line.slice(0, tab));
  }
  return map;
}

/** The paths (as git printed them) added, removed or changed between two listings, sorted. */
export function changedPaths(before: string, after: string): string[] {
  const a = entries(before);
  const b = entries(after);
  const changed: string[] = [];
  for (const [path, entry] of a) if (b.get(path) !== entry) changed.push(path);
  for (const path of b.keys()) if (!a.has(path)) changed.push(path);
  return changed.sort();
}
