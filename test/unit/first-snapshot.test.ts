import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bashForm, environmentBlocks, firstSnapshot } from "../../src/task/first-snapshot.ts";

// What is read: [name, text, positional parameters, the call's arguments].
const READ: [string, string, string[], string[]][] = [
  ["the W4 package script", 'snapshot "packages/p$1/src" --outputs "packages/p$1/out.txt"\nls "packages/p$1/src" > "packages/p$1/out.txt"\n', ["3"], ["packages/p3/src", "--outputs", "packages/p3/out.txt"]],
  ["alone, no newline", "snapshot input.txt", [], ["input.txt"]],
  ["no arguments", "snapshot\necho x", [], []],
  ["then plain commands on its line", "snapshot input.txt; echo built", [], ["input.txt"]],
  ["&& and || after it", "snapshot a && make all || echo failed", [], ["a"]],
  ["a trailing ;", "snapshot a;\n", [], ["a"]],
  ["redirections after it", 'snapshot a --outputs out.txt; echo x > out.txt 2>&1; cat <in >>log 2>>err >&2; exec 3>&-', [], ["a", "--outputs", "out.txt"]],
  ["variables after it (only their syntax matters)", 'snapshot a; echo "$HOME" ${X} $@ "$#" $? "${1}"', [], ["a"]],
  ["a shebang, comments, blank lines and set options first", "#!/usr/bin/env bash\n# build it\n\n  set -euo pipefail\n\t# more\nsnapshot src\n", [], ["src"]],
  ["set on the call's line", "set -e; set -o pipefail; snapshot a b", [], ["a", "b"]],
  ["any byte in a comment", "# caf\xe9 \x01\r\nsnapshot a", [], ["a"]],
  ["quoted words", `snapshot 'a b' "c d" 'x"y' "it's" ""`, [], ["a b", "c d", 'x"y', "it's", ""]],
  ["words of several parts", `snapshot pre"$1"'-'mid"\${2}"post`, ["A", "B"], ["preA-midBpost"]],
  ["$10 is ${1}0", 'snapshot "$10"', ["x"], ["x0"]],
  ["${10}", 'snapshot "${10}"', ["1", "2", "3", "4", "5", "6", "7", "8", "9", "ten"], ["ten"]],
  ["a missing parameter is empty without set -u", 'snapshot "$2" b', ["x"], ["", "b"]],
  ["set -u with the parameter there", 'set -u\nsnapshot "$1"', ["v"], ["v"]],
  ["option-like and punctuation words", "snapshot -n --raw=a,b:c@d%e+f --cache-root ./x/../y", [], ["-n", "--raw=a,b:c@d%e+f", "--cache-root", "./x/../y"]],
  ["a parameter's value is not re-read", 'snapshot "$1"', ["*; echo $(id) `x` \\"], ["*; echo $(id) `x` \\"]],
  ["later lines do not matter", "snapshot a\nif then fi (((", [], ["a"]],
];

// What is not read: [name, text, positional parameters].
const NOT_READ: [string, string, string[]][] = [
  ["no snapshot", "echo hi", []],
  ["empty", "", []],
  ["only comments", "# snapshot a\n", []],
  ["a command before it", "echo hi; snapshot a", []],
  ["a command on a line before it", "cd src\nsnapshot a", []],
  ["an assignment before it", "X=1 snapshot a", []],
  ["set -x (traced)", "set -x\nsnapshot a", []],
  ["set alone (prints variables)", "set\nsnapshot a", []],
  ["set with positional parameters", "set -e a b\nsnapshot a", []],
  ["set +e", "set +e\nsnapshot a", []],
  ["set -o with another option", "set -o posix\nsnapshot a", []],
  ["set ... && snapshot", "set -e && snapshot a", []],
  ["set -u and a missing parameter (bash's error)", 'set -u\nsnapshot "$2"', ["x"]],
  ["set -o nounset and a missing parameter", 'set -o nounset; snapshot "$1"', []],
  ["a pipe (a subshell)", "snapshot a | cat", []],
  ["in the background", "snapshot a &", []],
  ["a line continued by &&", "snapshot a &&\necho b", []],
  ["a line continued by a backslash", "snapshot a \\\n b", []],
  ["a syntax error on its line", "snapshot a; if true; then", []],
  ["a compound command on its line", "snapshot a; for f in x; do echo; done", []],
  ["a reserved word after it", "snapshot a; fi", []],
  ["an empty command", "snapshot a;; echo", []],
  ["; at the start", "; snapshot a", []],
  ["a redirection on the call", "snapshot a 2>/dev/null", []],
  ["a here-document", "snapshot a; cat <<EOF\nx\nEOF", []],
  ["a here-string", "snapshot a; cat <<< x", []],
  ["process substitution", "snapshot a; cat <(x)", []],
  [">| ", "snapshot a; echo >| f", []],
  ["a redirection without a word", "snapshot a; echo >", []],
  [">& to a word", "snapshot a; echo >&file", []],
  ["a glob", "snapshot *.txt", []],
  ["a question mark", "snapshot a?", []],
  ["a bracket", "snapshot [ab]", []],
  ["braces", "snapshot {a,b}", []],
  ["a tilde", "snapshot ~/x", []],
  ["an unquoted parameter (split, globbed)", "snapshot $1", ["x"]],
  ["$0", 'snapshot "$0"', []],
  ["a variable in the call", 'snapshot "$HOME"', []],
  ["$@ in the call", 'snapshot "$@"', ["a"]],
  ["command substitution", 'snapshot "$(echo a)"', []],
  ["backquotes", "snapshot `echo a`", []],
  ["arithmetic", 'snapshot "$((1+1))"', []],
  ["ANSI-C quoting", "snapshot $'a'", []],
  ["a backslash", "snapshot a\\ b", []],
  ["a backslash in double quotes", 'snapshot "a\\"b"', []],
  ["! in double quotes", 'snapshot "a!"', []],
  ["an unterminated quote", "snapshot 'a", []],
  ["a newline in quotes", "snapshot 'a\nb'", []],
  ["a quoted command name", "'snapshot' a", []],
  ["a comment after the call", "snapshot a # inputs", []],
  ["a carriage return (CRLF file)", "snapshot a\r\n", []],
  ["non-ASCII in the call", "snapshot caf\xe9", []],
  ["UTF-8 byte order mark", "\xef\xbb\xbfsnapshot a", []],
  ["NUL in a comment", "#\0\nsnapshot a", []],
  ["a function definition first", "f() { :; }\nsnapshot a", []],
  ["parentheses", "(snapshot a)", []],
  ["a group", "{ snapshot a; }", []],
  ["[[ first", "[[ -f x ]]\nsnapshot a", []],
  ["time", "time snapshot a", []],
  ["! first", "! snapshot a", []],
];

describe("firstSnapshot", () => {
  for (const [name, text, positional, args] of READ) test(`reads: ${name}`, () => expect(firstSnapshot(text, positional)).toEqual(args));
  for (const [name, text, positional] of NOT_READ) test(`does not read: ${name}`, () => expect(firstSnapshot(text, positional)).toBeNull());
});

describe("bashForm", () => {
  test.each([
    [["bash", "task.sh", "a", "b"], { kind: "script", path: "task.sh", positional: ["a", "b"] }],
    [["/usr/bin/bash", "./t.sh"], { kind: "script", path: "./t.sh", positional: [] }],
    [["bash", "-c", "snapshot x", "name", "a"], { kind: "string", text: "snapshot x", positional: ["a"] }],
    [["bash", "-c", "snapshot x"], { kind: "string", text: "snapshot x", positional: [] }],
  ] as const)("%j", (command, form) => expect(bashForm([...command])).toEqual(form as never));
  test.each([[["sh", "-c", "snapshot x"]], [["dash", "t.sh"]], [["bash"]], [["bash", "-c"]], [["bash", "-e", "t.sh"]], [["bash", "+x", "t.sh"]], [["bash", "--", "t.sh"]], [["bash", ""]], [["mybash", "t.sh"]], [["make"]]])("not %j", (command) =>
    expect(bashForm(command)).toBeNull(),
  );
});

describe("environmentBlocks", () => {
  const base = { PATH: "/usr/bin", HOME: "/root", "BASH_FUNC_snapshot%%": "() { :; }", "BASH_FUNC_taskrunner%%": "() { :; }", SHLVL: "2" };
  test("an ordinary environment", () => {
    const locales: string[] = [];
    expect(environmentBlocks({ ...base, LANG: "C.UTF-8", LC_ALL: "", LC_CTYPE: "C", LC_TIME: "POSIX", LC_MESSAGES: "en_US.UTF-8" }, locales)).toBeNull();
    expect(locales).toEqual(["C.UTF-8", "en_US.UTF-8"]);
  });
  test.each([
    ["BASH_ENV", "x"], ["ENV", "x"], ["SHELLOPTS", "xtrace"], ["BASHOPTS", "x"], ["POSIXLY_CORRECT", "1"], ["BASH_COMPAT", "31"], ["BASH_XTRACEFD", "2"],
    ["PS4", "+"], ["TMOUT", "1"], ["FUNCNEST", "1"], ["IFS", ":"], ["LD_PRELOAD", "x.so"], ["LD_LIBRARY_PATH", "/x"], ["LD_DEBUG", "all"], ["GLIBC_TUNABLES", "x"],
    ["BASH_FUNC_f%%", "() { :; }"], ["SHLVL", "999"], ["SHLVL", "1000"], ["SHLVL", "-1"], ["SHLVL", "x"],
  ])("%s=%s rules it out", (name, value) => expect(environmentBlocks({ ...base, [name]: value }, [])).not.toBeNull());
  test.each([["SHLVL", "998"], ["SHLVL", ""], ["TERM", "dumb"], ["BASH_FUNC_snapshot%%", "anything"]])("%s=%s does not", (name, value) =>
    expect(environmentBlocks({ ...base, [name]: value }, [])).toBeNull(),
  );
});

/**
 * What bash itself does with the text: with a `snapshot` that records its arguments and exits, no
 * external command to be found, run as `bash -c` and as a script. The arguments it passed, or
 * null if it never called snapshot; anything it printed, and its exit code.
 */
function bashRuns(dir: string, text: string, positional: string[], form: "string" | "script"): { args: string[] | null; printed: string; code: number } {
  const out = join(dir, "args");
  rmSync(out, { force: true });
  const env = { PATH: "/nonexistent", OUT: out, LC_ALL: "C", "BASH_FUNC_snapshot%%": `() { for a; do printf '%s\\0' "$a"; done > "$OUT"; exit 0; }` };
  let command: string[];
  if (form === "string") command = [BASH, "-c", text, "name", ...positional];
  else {
    writeFileSync(join(dir, "script"), Buffer.from(text, "latin1"));
    command = [BASH, join(dir, "script"), ...positional];
  }
  const r = Bun.spawnSync(command, { cwd: dir, env, stdin: "ignore", timeout: 10_000 });
  const args = existsSync(out) ? readFileSync(out, "latin1").split("\0").slice(0, -1) : null;
  return { args, printed: r.stdout.toString("latin1") + r.stderr.toString("latin1"), code: r.exitCode ?? -1 };
}

const BASH = Bun.which("bash")!;

describe("what is read is what bash does", () => {
  const dir = mkdtempSync(join(tmpdir(), "first-snapshot-"));
  for (const [name, text, positional, args] of READ) {
    for (const form of ["string", "script"] as const) {
      test(`${name} (${form})`, () => expect(bashRuns(dir, text, positional, form)).toEqual({ args, printed: "", code: 0 }));
    }
  }

  // Random texts from pieces that matter to bash's parser: whatever is read must be what bash
  // does first, silently. Seeded, so a failure names a text that fails again.
  const PIECES = ["snapshot", "snapshot", "snapshot a", "set -e", "set -u", "set -euo pipefail", "set -x", "set", "echo hi", "a", "'q s'", '"$1"', '"p$2x"', "$1", '"${1}"', '"$0"', "*", "~", "#c", ";", ";", "&&", "||", "|", "&", ">f", "2>&1", "<f", ">&2", "\n", "\n", " ", "\t", '"', "'", "\\", "if", "then", "fi", "do", "$(x)", "`x`", "{", "}", "(", ")", "x=1", "<<E", "<<<", "${HOME}", '"$@"', "!", "time", "\r"];
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  // Most texts start the way tasks do, so that many are read.
  const STARTS = ["", "snapshot ", "snapshot ", "set -e\nsnapshot ", "#!/bin/bash\nset -euo pipefail\nsnapshot ", "set -u; snapshot "];
  test("600 random texts", () => {
    let read = 0;
    for (let k = 0; k < 600; k++) {
      const n = 1 + random(8);
      const text = STARTS[random(STARTS.length)] + Array.from({ length: n }, () => PIECES[random(PIECES.length)]).join(random(2) === 0 ? " " : "");
      const positional = ["v1", "v 2"].slice(0, random(3));
      const args = firstSnapshot(text, positional);
      if (args === null) continue;
      read++;
      for (const form of ["string", "script"] as const) expect({ text, form, ...bashRuns(dir, text, positional, form) }).toEqual({ text, form, args, printed: "", code: 0 });
    }
    // The pieces are chosen so that a good share is read.
    expect(read).toBeGreaterThan(100);
  });
});
