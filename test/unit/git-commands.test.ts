import { test, expect, describe } from "bun:test";
import {
  type InputError,
  addCommand,
  changedPaths,
  classifyAddFailure,
  classifyListFailure,
  classifyProbeFailure,
  describeInputError,
  displayCommand,
  listCommand,
  oneLine,
  parseIgnoredReport,
  parseProbe,
  probeCommand,
  stagedToTreeListing,
  trimSpace,
} from "../../src/inputs/git-commands.ts";

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString("latin1");
const SHA_A = "257cc5642cb1a054f08cc83f2d943e56fd3ebe99";
const SHA_B = "587be6b4c3f93f93c489c0111bba5596147a26cb";

describe("commands", () => {
  test("probe asks for the work tree flag and the index path in one process", () => {
    expect(probeCommand()).toEqual({ args: ["rev-parse", "--is-inside-work-tree", "--git-path", "index"], tempIndex: false });
  });

  test.each([
    [["input.txt"]],
    [["a b", "-looks-like-an-option", ":(glob)*.txt"]],
  ])("add %j stages into the temporary index, pathspecs after --", (pathspecs) => {
    expect(addCommand(pathspecs)).toEqual({
      args: ["-c", "core.splitIndex=false", "-c", "advice.addIgnoredFile=true", "add", "--", ...pathspecs],
      tempIndex: true,
    });
  });

  test.each([[["d"]], [["x y", "z"]]])("list %j reads the temporary index", (pathspecs) => {
    expect(listCommand(pathspecs)).toEqual({
      args: ["ls-files", "--stage", "--full-name", "--error-unmatch", "--", ...pathspecs],
      tempIndex: true,
    });
  });

  test.each<[string[], string]>([
    [["-c", "core.splitIndex=false", "-c", "advice.addIgnoredFile=true", "add", "--", "src"], "git add -- src"],
    [["add", "--", "a b", 'q"x'], 'git add -- "a b" "q\\"x"'],
    [["ls-files", "--stage", "--", "d/é"], 'git ls-files --stage -- "d/é"'],
    [["rev-parse", "--git-path", "index"], "git rev-parse --git-path index"],
  ])("display %j", (args, shown) => {
    expect(displayCommand({ args, tempIndex: false })).toBe(shown);
  });
});

describe("parseProbe", () => {
  test.each<[string, ReturnType<typeof parseProbe>]>([
    ["true\n.git/index\n", { insideWorkTree: true, indexPath: ".git/index" }],
    ["true\n../.git/index\n", { insideWorkTree: true, indexPath: "../.git/index" }],
    ["false\nindex\n", { insideWorkTree: false, indexPath: "index" }],
    ["true\n/abs/with\nnewline/index\n", { insideWorkTree: true, indexPath: "/abs/with\nnewline/index" }],
    ["true\n/no/final/newline", { insideWorkTree: true, indexPath: "/no/final/newline" }],
    ["", null],
    ["true", null],
    ["true\n\n", null],
    ["maybe\n.git/index\n", null],
  ])("%j", (out, expected) => {
    expect(parseProbe(out)).toEqual(expected);
  });
});

describe("stagedToTreeListing", () => {
  const cases: [string, string, string][] = [
    ["empty", "", ""],
    ["one file", `100644 ${SHA_A} 0\tinput.txt\n`, `100644 blob ${SHA_A}\tinput.txt\n`],
    [
      "executable, symlink and submodule",
      `100755 ${SHA_A} 0\tbin/run\n120000 ${SHA_B} 0\tlink\n160000 ${SHA_A} 0\tsub\n`,
      `100755 blob ${SHA_A}\tbin/run\n120000 blob ${SHA_B}\tlink\n160000 commit ${SHA_A}\tsub\n`,
    ],
    [
      "quoted paths are copied as printed",
      `100644 ${SHA_A} 0\t"d/caf\\303\\251"\n100644 ${SHA_B} 0\t"new\\nline"\n100644 ${SHA_B} 0\ttrailing space \n`,
      `100644 blob ${SHA_A}\t"d/caf\\303\\251"\n100644 blob ${SHA_B}\t"new\\nline"\n100644 blob ${SHA_B}\ttrailing space \n`,
    ],
    [
      "raw non-UTF-8 bytes (core.quotePath=false) pass through",
      `100644 ${SHA_A} 0\tcaf\xe9 \xff\xfe\n`,
      `100644 blob ${SHA_A}\tcaf\xe9 \xff\xfe\n`,
    ],
    [
      "a tab inside the path stays (only the first separates)",
      `100644 ${SHA_A} 0\ta\tb\n`,
      `100644 blob ${SHA_A}\ta\tb\n`,
    ],
    [
      "sha256 object names",
      `100644 ${"ab".repeat(32)} 0\tx\n`,
      `100644 blob ${"ab".repeat(32)}\tx\n`,
    ],
    ["no final newline", `100644 ${SHA_A} 0\tx`, `100644 blob ${SHA_A}\tx\n`],
  ];
  test.each(cases)("%s", (_name, staged, listing) => {
    const r = stagedToTreeListing(bytes(staged));
    expect(r.ok).toBe(true);
    if (r.ok) expect(latin1(r.value)).toBe(listing);
  });

  test.each<[string, string, string]>([
    ["unmerged entry", `100644 ${SHA_A} 2\tconflict.txt\n`, "unmerged entry (stage 2)"],
    ["sparse directory entry", `040000 ${SHA_A} 0\tdir/\n`, "unexpected entry mode 040000"],
    ["junk", "hello\n", "unexpected ls-files line"],
    ["an empty line", `100644 ${SHA_A} 0\tx\n\n`, "unexpected ls-files line"],
    ["a mode trees never hold", `100664 ${SHA_A} 0\tx\n`, "unexpected entry mode 100664"],
    ["a missing path", `100644 ${SHA_A} 0`, "unexpected ls-files line"],
  ])("%s is refused", (_name, staged, message) => {
    const r = stagedToTreeListing(bytes(staged));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});

describe("trimSpace (Haskell Data.Text.strip on the UTF-8 text)", () => {
  const utf8 = (s: string): Uint8Array => Buffer.from(s, "utf8");
  test.each<[string, string]>([
    ["", ""],
    ["x", "x"],
    ["100644 blob X\tinput.txt\n", "100644 blob X\tinput.txt"],
    [" \t\r\n\v\fx y\n\n", "x y"],
    ["last path ends in spaces  \n", "last path ends in spaces"],
    ["\u00a0x\u00a0", "x"],
    ["x\u3000\u2000\u200a\u202f\u205f\u1680\n", "x"],
    // Not white space for Haskell's isSpace, so kept: NEL, zero-width space, BOM, line separator.
    ["x\u0085", "x\u0085"],
    ["x\u200b", "x\u200b"],
    ["x\ufeff", "x\ufeff"],
    ["x\u2028", "x\u2028"],
    ["\n\n", ""],
    ["\u3000", ""],
  ])("%j -> %j", (input, expected) => {
    expect(Buffer.from(trimSpace(utf8(input))).toString("utf8")).toBe(expected);
  });

  test("bytes that are not UTF-8 are kept", () => {
    expect([...trimSpace(new Uint8Array([0x20, 0xff, 0xa0, 0x0a]))]).toEqual([0xff, 0xa0]);
  });
});

describe("parseIgnoredReport", () => {
  const header = "The following paths are ignored by one of your .gitignore files:";
  const hints = 'hint: Use -f if you really want to add them.\nhint: Turn this message off by running\nhint: "git config advice.addIgnoredFile false"\n';
  test.each<[string, string, string[] | null]>([
    ["one ignored path", `${header}\nig.log\n${hints}`, ["ig.log"]],
    ["two, with spaces", `${header}\nbuild\na b.log\n${hints}`, ["build", "a b.log"]],
    ["after a warning", `warning: adding embedded git repository: sub\n${header}\nx.log\n${hints}`, ["x.log"]],
    ["an error line means files may be missing", `error: open("x"): Permission denied\n${header}\nx.log\n${hints}`, null],
    ["sparse-checkout report after it", `${header}\nx.log\n${hints}The following paths and/or pathspecs matched paths that exist\n`, null],
    ["no hint lines (list end unknown)", `${header}\nx.log\n`, null],
    ["something else entirely", "fatal: pathspec 'x' did not match any files\n", null],
    ["empty", "", null],
  ])("%s", (_name, stderr, expected) => {
    expect(parseIgnoredReport(stderr)).toEqual(expected);
  });
});

describe("classifying failures", () => {
  const cmd = "git add -- x";
  test.each<[string, string, string[], InputError]>([
    ["missing path", "fatal: pathspec 'docs/x' did not match any files\n", ["a", "docs/x"], { kind: "no-match", pathspec: "docs/x" }],
    ["missing glob", "fatal: pathspec '*.md' did not match any files\n", ["*.md"], { kind: "no-match", pathspec: "*.md" }],
    [
      "outside (git 2.39 wording)",
      "fatal: ../../x: '../../x' is outside repository at '/repo'\n",
      ["../../x"],
      { kind: "outside-repo", pathspec: "../../x", detail: "fatal: ../../x: '../../x' is outside repository at '/repo'" },
    ],
    [
      "outside (older wording)",
      "fatal: '/etc/passwd' is outside repository\n",
      ["/etc/passwd"],
      { kind: "outside-repo", pathspec: "/etc/passwd", detail: "fatal: '/etc/passwd' is outside repository" },
    ],
    [
      "inside a submodule",
      "fatal: Pathspec 'sub/f' is in submodule 'sub'\n",
      ["sub/f"],
      { kind: "git-failed", command: cmd, detail: "fatal: Pathspec 'sub/f' is in submodule 'sub'" },
    ],
  ])("add: %s", (_name, stderr, pathspecs, expected) => {
    expect(classifyAddFailure(stderr, pathspecs, cmd)).toEqual(expected);
  });

  test("list: an unmatched pathspec is no-match", () => {
    const stderr = "error: pathspec 'empty' did not match any file(s) known to git\nDid you forget to 'git add'?\n";
    expect(classifyListFailure(stderr, ["a", "empty"], "git ls-files")).toEqual({ kind: "no-match", pathspec: "empty" });
  });

  test("list: anything else is git-failed", () => {
    expect(classifyListFailure("fatal: index file corrupt\n", ["a"], "git ls-files")).toEqual({ kind: "git-failed", command: "git ls-files", detail: "fatal: index file corrupt" });
  });

  test.each<[string, InputError]>([
    ["fatal: not a git repository (or any of the parent directories): .git\n", { kind: "not-a-work-tree", cwd: "/w", detail: "not a git repository (or any of the parent directories): .git" }],
    ["fatal: detected dubious ownership in repository at '/w'\n", { kind: "git-failed", command: "git rev-parse", detail: "fatal: detected dubious ownership in repository at '/w'" }],
  ])("probe: %j", (stderr, expected) => {
    expect(classifyProbeFailure(stderr, "/w", "git rev-parse")).toEqual(expected);
  });

  test("oneLine joins lines and drops git's labels", () => {
    expect(oneLine("  fatal: a\n  hint: b\nerror: c\n")).toBe("a; hint: b; c");
  });
});

describe("describeInputError", () => {
  test.each<[InputError, string]>([
    [
      { kind: "not-a-work-tree", cwd: "/tmp/x", detail: "fatal: not a git repository (or any of the parent directories): .git" },
      "snapshot: cannot hash input files: /tmp/x is not inside a git work tree (not a git repository (or any of the parent directories): .git); run the task in a git checkout, or pass values that are not files with --raw",
    ],
    [
      { kind: "no-match", pathspec: "docs/x", cwd: "/repo/sub" },
      'snapshot: input "docs/x" matches no files (in /repo/sub); check the path (relative to that directory) or create the file',
    ],
    [
      { kind: "no-match", pathspec: "docs/x" },
      'snapshot: input "docs/x" matches no files; check the path (relative to that directory) or create the file',
    ],
    [
      { kind: "no-match", pathspec: "empty", cwd: "/repo", exists: true },
      'snapshot: input "empty" matches no files (in /repo): it exists but holds no file git would track (an empty directory, or only ignored files); add a file to it or remove it from the inputs',
    ],
    [
      { kind: "no-match", pathspec: "gone", cwd: "/repo", exists: false },
      'snapshot: input "gone" matches no files (in /repo); check the path (relative to that directory) or create the file',
    ],
    [
      { kind: "no-match", pathspec: "x.log", cwd: "/repo", exists: true, ignored: ["x.log"] },
      'snapshot: input "x.log" matches no files (in /repo): git ignores "x.log" (.gitignore), and ignored files are not inputs; stop ignoring it or remove it from the inputs',
    ],
    [
      { kind: "no-match", pathspec: "new\nline", cwd: "/repo" },
      'snapshot: input "new\\nline" matches no files (in /repo); check the path (relative to that directory) or create the file',
    ],
    [
      { kind: "outside-repo", pathspec: "../../x", cwd: "/repo/sub", detail: "fatal: ../../x: '../../x' is outside repository at '/repo'" },
      "snapshot: input \"../../x\" is outside the git work tree (from /repo/sub): ../../x: '../../x' is outside repository at '/repo'; inputs must be files inside the repository (pass other values with --raw)",
    ],
    [
      { kind: "git-failed", command: "git add -- sub/f", detail: "fatal: Pathspec 'sub/f' is in submodule 'sub'" },
      "snapshot: hashing input files failed: `git add -- sub/f` said: Pathspec 'sub/f' is in submodule 'sub'",
    ],
    [{ kind: "git-failed", command: "git add -- x", detail: "" }, "snapshot: hashing input files failed: `git add -- x` said: (no message)"],
  ])("%j", (e, text) => {
    expect(describeInputError(e)).toBe(text);
    expect(describeInputError(e)).not.toContain("\n");
  });
});

describe("changedPaths", () => {
  const line = (sha: string, path: string, mode = "100644") => `${mode} blob ${sha}\t${path}`;
  test.each<[string, string, string, string[]]>([
    ["identical", line(SHA_A, "a"), line(SHA_A, "a"), []],
    ["both empty", "", "", []],
    ["content changed", line(SHA_A, "a"), line(SHA_B, "a"), ["a"]],
    ["mode changed", line(SHA_A, "a"), line(SHA_A, "a", "100755"), ["a"]],
    ["added", line(SHA_A, "b"), [line(SHA_A, "a"), line(SHA_A, "b")].join("\n"), ["a"]],
    ["removed", [line(SHA_A, "a"), line(SHA_A, "b")].join("\n"), line(SHA_A, "b"), ["a"]],
    ["from nothing", "", [line(SHA_A, "z"), line(SHA_A, "a")].join("\n"), ["a", "z"]],
    [
      "quoted paths stay as printed, sorted",
      [line(SHA_A, '"caf\\303\\251"'), line(SHA_A, "a b")].join("\n"),
      [line(SHA_B, '"caf\\303\\251"'), line(SHA_B, "a b"), line(SHA_A, "c")].join("\n"),
      ['"caf\\303\\251"', "a b", "c"],
    ],
  ])("%s", (_name, before, after, expected) => {
    expect(changedPaths(before, after)).toEqual(expected);
  });
});
