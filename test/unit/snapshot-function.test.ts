import { describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isUtf8 } from "node:buffer";
import { LineSplitter } from "../../src/output/lines.ts";
import { REPLY_CONTINUE, REPLY_ERROR, REPLY_SKIP, decodeRequest, encodeRequest } from "../../src/protocol/messages.ts";
import { SNAPSHOT_FUNCTION, SNAPSHOT_FUNCTION_ENV } from "../../src/protocol/snapshot-function.ts";

// These tests run the real function in real bash. PATH points nowhere, which proves that the
// function needs no external command (bash would fail with "command not found").

// Bun looks the executable up in the child's PATH, which points nowhere: resolve bash here.
const BASH = Bun.which("bash") ?? "/bin/bash";

interface Run {
  /** The raw request lines, without their newline. */
  lines: Buffer[];
  stdout: string;
  stderr: string;
  exitCode: number;
}

interface RunOptions {
  /** Words for `$@` (strings only: argv from Bun must be valid UTF-8). */
  args?: string[];
  /** Extra or overriding environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
  /** The reply to each snapshot request; "close" closes the response pipe instead. */
  reply?: string | "close";
  cwd?: string;
}

/** Runs `script` in bash with the function and both pipes, answering every snapshot request. */
async function runBash(script: string, options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string | undefined> = {
    [SNAPSHOT_FUNCTION_ENV]: SNAPSHOT_FUNCTION,
    _taskrunner_request_pipe: "5",
    _taskrunner_response_pipe: "6",
    PATH: "/nonexistent",
    ...options.env,
  };
  const proc = Bun.spawn([BASH, "-c", script, "bash", ...(options.args ?? [])], {
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
    cwd: options.cwd,
    // Indexes 5 and 6 become the child's fds 5 and 6 (socketpairs; bash treats them as pipes).
    stdio: ["ignore", "pipe", "pipe", "ignore", "ignore", "pipe", "pipe"],
  });
  const requestFd = proc.stdio[5]!;
  let responseFd: number | null = proc.stdio[6]!;
  const lines: Buffer[] = [];
  const serve = (async () => {
    const splitter = new LineSplitter();
    for await (const chunk of Bun.file(requestFd).stream()) {
      for (const line of splitter.push(chunk)) {
        lines.push(Buffer.from(line));
        if (responseFd === null) continue;
        if (options.reply === "close") {
          closeSync(responseFd);
          responseFd = null;
        } else {
          writeSync(responseFd, options.reply ?? REPLY_CONTINUE);
        }
      }
    }
    const rest = splitter.end();
    if (rest !== null) lines.push(Buffer.from(rest));
  })();
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  await serve;
  // Reading proc.stdio hands both parent ends to us; the stream does not close its fd.
  closeSync(requestFd);
  if (responseFd !== null) closeSync(responseFd);
  return { lines, stdout, stderr, exitCode };
}

/** A bash word for any bytes 1..255: ANSI-C quoting with one `\xHH` per byte. */
const ansiC = (bytes: Uint8Array) => `$'${Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}'`;

const utf8 = (s: string) => Buffer.from(s, "utf8");
const latin1 = (s: string) => Buffer.from(s, "latin1");
const hexOf = (words: Uint8Array[]) => words.map((w) => Buffer.from(w).toString("hex"));

/** The snapshot arguments a request line carries, as hex. */
function argsOf(line: Buffer): string[] {
  const r = decodeRequest(line);
  if (r.kind !== "snapshot") throw new Error(`expected a snapshot request, got ${JSON.stringify(r)}`);
  return hexOf(r.args);
}

function expectClean(run: Run): void {
  if (run.exitCode !== 0 || run.stderr !== "") throw new Error(`bash failed (${run.exitCode}): ${run.stderr}`);
}

const EVERY_BYTE = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));

/** Argument lists (bytes) sent both ways: through ANSI-C words and, when UTF-8, through argv. */
const ARGUMENT_LISTS: [string, Buffer[]][] = [
  ["no arguments", []],
  ["plain words", [utf8("src"), utf8("package.json"), utf8("--raw"), utf8("v1"), utf8("-o"), utf8("dist")]],
  ["an empty argument", [utf8("")]],
  ["empty arguments around a word", [utf8(""), utf8("x"), utf8("")]],
  ["double quotes", [utf8('"'), utf8('say "hi"'), utf8('""""')]],
  ["backslashes", [utf8("\\"), utf8("a\\b"), utf8("\\\\"), utf8("trailing\\"), utf8('\\"'), utf8("\\n"), utf8("\\u0041")]],
  ["newlines", [utf8("\n"), utf8("a\nb\n"), utf8("\n\n\n")]],
  ["tabs and carriage returns", [utf8("\t"), utf8("a\tb\r\nc"), utf8("\r")]],
  ["all short escapes together", [utf8('\b\t\n\f\r"\\')]],
  ["shell metacharacters", [utf8("$HOME"), utf8("`id`"), utf8("$(id)"), utf8("'"), utf8("*"), utf8("?"), utf8("[a]"), utf8("!(x)"), utf8("~")]],
  ["pattern-replacement specials", [utf8("&"), utf8("a&b"), utf8("\\&"), utf8("%s%d"), utf8("${x//a/b}")]],
  ["words that look like options", [utf8("-n"), utf8("-e"), utf8("--"), utf8("-")]],
  ["spaces", [utf8(" "), utf8("  two  spaces "), utf8("my dir/a b.txt")]],
  ["UTF-8", [utf8("é"), utf8("日本"), utf8("🙂"), utf8("naïve café 日本語 🙂🙃"), utf8("\u2028")]],
  ["DEL", [latin1("\x7f"), latin1("a\x7fb\x7f")]],
  ["CTLESC and CTLNUL mixed", [latin1("\x01\x7f\x01"), latin1("\x7f\x01\x7f"), latin1("\x01\x01\\\x01\""), latin1("x\x01")]],
  ["invalid UTF-8", [latin1("\xff"), latin1("caf\xe9"), latin1("\xc3("), latin1("\x80\x81\xfe\xff")]],
  ["every byte together", [EVERY_BYTE]],
  ["every byte twice, reversed", [Buffer.concat([EVERY_BYTE, Buffer.from(EVERY_BYTE).reverse()])]],
];

describe("the snapshot bash function", () => {
  test("the value defines a function bash can import", () => {
    expect(SNAPSHOT_FUNCTION.startsWith("() {")).toBe(true);
    expect(SNAPSHOT_FUNCTION_ENV).toBe("BASH_FUNC_snapshot%%");
    // Pure ASCII: bash parses it at start-up in whatever locale the task has.
    expect(/^[\x20-\x7e\n]*$/.test(SNAPSHOT_FUNCTION)).toBe(true);
  });

  test("every byte 1..255, each alone, is encoded exactly", async () => {
    const words = Array.from(EVERY_BYTE, (b) => Buffer.from([b]));
    const run = await runBash(words.map((w) => `snapshot ${ansiC(w)}`).join("\n"), { env: { LANG: "C.UTF-8" } });
    expectClean(run);
    expect(run.lines.length).toBe(255);
    run.lines.forEach((line, i) => {
      expect(argsOf(line)).toEqual(hexOf([words[i]!]));
      expect(line.toString("latin1") + "\n").toBe(Buffer.from(encodeRequest(["snapshot", words[i]!])).toString("latin1"));
    });
  });

  test("every byte 1..255 between other bytes", async () => {
    const words = Array.from(EVERY_BYTE, (b) => Buffer.from([0x61, b, b, 0x5c, b, 0x22]));
    const run = await runBash(words.map((w) => `snapshot ${ansiC(w)} ${ansiC(w)}`).join("\n"), { env: { LANG: "C.UTF-8" } });
    expectClean(run);
    run.lines.forEach((line, i) => expect(argsOf(line)).toEqual(hexOf([words[i]!, words[i]!])));
  });

  // In a UTF-8 locale bash would count characters and choke on invalid UTF-8; the function
  // switches to bytes itself, so the result must not depend on the task's locale.
  const LOCALES = ["C", "C.UTF-8"];
  const cases = LOCALES.flatMap((locale) => ARGUMENT_LISTS.map(([name, args]) => [name, locale, args] as const));
  test.each(cases)("%s (LANG=%s): bytes arrive exactly, and as encodeRequest writes them", async (_name, locale, args) => {
    const run = await runBash(`snapshot ${args.map(ansiC).join(" ")}\necho continued`, { env: { LANG: locale } });
    expectClean(run);
    expect(run.stdout).toBe("continued\n");
    expect(run.lines.length).toBe(1);
    expect(argsOf(run.lines[0]!)).toEqual(hexOf(args));
    expect(hexOf([Buffer.concat([run.lines[0]!, Buffer.from("\n")])])).toEqual(hexOf([encodeRequest(["snapshot", ...args])]));
  });

  test.each(ARGUMENT_LISTS.filter(([, args]) => args.every((a) => isUtf8(a))))(
    "%s: the same through argv",
    async (_name, args) => {
      const run = await runBash('snapshot "$@"', { args: args.map((a) => a.toString("utf8")) });
      expectClean(run);
      expect(argsOf(run.lines[0]!)).toEqual(hexOf(args));
      expect(hexOf([Buffer.concat([run.lines[0]!, Buffer.from("\n")])])).toEqual(hexOf([encodeRequest(["snapshot", ...args])]));
    },
  );

  test("100 arguments", async () => {
    const args = Array.from({ length: 100 }, (_, i) => `arg ${i} "${"\\".repeat(i % 3)}\n${"é".repeat(i % 4)}`);
    const run = await runBash('snapshot "$@"', { args });
    expectClean(run);
    expect(argsOf(run.lines[0]!)).toEqual(hexOf(args.map(utf8)));
  });

  test("a 200 KB argument with control characters, quickly", async () => {
    // Built in bash: one argv string may not exceed 128 KiB on Linux.
    // Doubling only: in a UTF-8 locale the caller's own \${a:0:N} would count characters.
    const seed = utf8('ab"c\\d\ne\tf\x01g\x7fh é 日本 🙂\r\x1f');
    const doublings = Math.ceil(Math.log2(200000 / seed.length));
    const script = `a=${ansiC(seed)}; for ((i = 0; i < ${doublings}; i++)); do a+=$a; done; snapshot "$a" tail`;
    const big = Buffer.concat(Array.from({ length: 2 ** doublings }, () => seed));
    expect(big.length).toBeGreaterThanOrEqual(200000);
    const started = performance.now();
    const run = await runBash(script, { env: { LANG: "C.UTF-8" } });
    const elapsed = performance.now() - started;
    expectClean(run);
    expect(argsOf(run.lines[0]!)).toEqual(hexOf([big, utf8("tail")]));
    expect(elapsed).toBeLessThan(3000);
  });

  test("a 200 KB plain argument", async () => {
    const run = await runBash(`a=0123456789; while ((\${#a} < 200000)); do a+=$a; done; snapshot "\${a:0:200000}"`);
    expectClean(run);
    expect(argsOf(run.lines[0]!)).toEqual(hexOf([utf8("0123456789".repeat(20000))]));
  });
});

describe("replies", () => {
  const script = "snapshot in; echo after; exit 3";

  test("true: the script carries on", async () => {
    const run = await runBash(script, { reply: REPLY_CONTINUE });
    expect(run).toMatchObject({ stdout: "after\n", stderr: "", exitCode: 3 });
  });

  test("exit 0: the script ends with 0, no later command runs", async () => {
    const run = await runBash(script, { reply: REPLY_SKIP });
    expect(run).toMatchObject({ stdout: "", stderr: "", exitCode: 0 });
  });

  test("exit 1: the script ends with 1, no later command runs", async () => {
    const run = await runBash(script, { reply: REPLY_ERROR });
    expect(run).toMatchObject({ stdout: "", stderr: "", exitCode: 1 });
  });

  test("exit 0 inside a function call ends the whole script", async () => {
    const run = await runBash("build() { snapshot in; echo in-build; }; build; echo after", { reply: REPLY_SKIP });
    expect(run).toMatchObject({ stdout: "", exitCode: 0 });
  });

  test("the EXIT trap still runs on exit 0", async () => {
    const run = await runBash("trap 'echo trapped' EXIT; snapshot in; echo after", { reply: REPLY_SKIP });
    expect(run).toMatchObject({ stdout: "trapped\n", exitCode: 0 });
  });

  test("a closed response pipe: exit 1 with a message", async () => {
    const run = await runBash(script, { reply: "close" });
    expect(run.lines.length).toBe(1);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("snapshot: no reply from taskrunner (response pipe, descriptor 6, closed)\n");
  });

  test("a closed request pipe: exit 1 with a message", async () => {
    const run = await runBash(`exec 5>&-; ${script}`);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("snapshot: cannot write to the taskrunner request pipe (descriptor 5)\n");
  });

  test.each([
    ["unset", { _taskrunner_request_pipe: undefined }],
    ["empty", { _taskrunner_response_pipe: "" }],
    ["not a number", { _taskrunner_request_pipe: "out.txt" }],
  ])("pipe variables %s: exit 1 with a message, nothing written", async (_name, env) => {
    const dir = mkdtempSync(join(tmpdir(), "snapshot-fn-"));
    const run = await runBash(`set -u; ${script}`, { env, cwd: dir });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      "snapshot: _taskrunner_request_pipe and _taskrunner_response_pipe must be descriptor numbers; is this running under taskrunner?\n",
    );
    expect(run.lines).toEqual([]);
    expect(await Bun.file(join(dir, "out.txt")).exists()).toBe(false);
  });
});

describe("the caller's shell is left alone", () => {
  const ARGS = ["a b", 'q"\\', "x\ny", "é", "*", "[", "&"];

  test("strict mode, extglob, nullglob, failglob, nocasematch, odd IFS, files that globs match", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snapshot-fn-"));
    for (const name of ["a", "[", "*", "0", "1x"]) writeFileSync(join(dir, name), "");
    const script = [
      "set -euo pipefail",
      "shopt -s extglob nullglob failglob nocasematch globstar dotglob",
      "IFS='\\\"01x'",
      'snapshot "$@" --raw ""',
      "echo survived",
    ].join("\n");
    const run = await runBash(script, { args: ARGS, cwd: dir });
    expectClean(run);
    expect(run.stdout).toBe("survived\n");
    expect(argsOf(run.lines[0]!)).toEqual(hexOf([...ARGS, "--raw", ""].map(utf8)));
  });

  test("strict mode with no arguments (set -u and an empty $@)", async () => {
    const run = await runBash("set -euo pipefail; snapshot; echo survived");
    expectClean(run);
    expect(run.stdout).toBe("survived\n");
    expect(argsOf(run.lines[0]!)).toEqual([]);
  });

  test("xtrace on: the request is unchanged", async () => {
    const run = await runBash('set -x; snapshot "$@"; set +x; echo survived', { args: ARGS });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("survived\n");
    expect(argsOf(run.lines[0]!)).toEqual(hexOf(ARGS.map(utf8)));
  });

  test("no variable leaks, same-named caller variables and the locale survive", async () => {
    const script = [
      "set -eu",
      "__tr_a=keep __tr_line=keep2 before= after=",
      "before=$(compgen -v)",
      'snapshot "$@"',
      "after=$(compgen -v)",
      '[[ $before == "$after" ]] || echo "variables changed"',
      'echo "a=$__tr_a line=$__tr_line LC_ALL=${LC_ALL-unset}"',
      'x=é; echo "chars=${#x}"',
    ].join("\n");
    const run = await runBash(script, { args: ["é", "x\ny"], env: { LANG: "C.UTF-8" } });
    expectClean(run);
    expect(run.stdout).toBe("a=keep line=keep2 LC_ALL=unset\nchars=1\n");
  });

  test("a caller's own LC_ALL is restored", async () => {
    const run = await runBash('LC_ALL=C.UTF-8; snapshot é; x=é; echo "$LC_ALL ${#x}"');
    expectClean(run);
    expect(run.stdout).toBe("C.UTF-8 1\n");
    expect(argsOf(run.lines[0]!)).toEqual(hexOf([utf8("é")]));
  });

  test("the function's status is 0 on true, so `snapshot && ...` and `if snapshot` work", async () => {
    const run = await runBash("set -e; snapshot a && echo and; if snapshot b; then echo if; fi");
    expectClean(run);
    expect(run.stdout).toBe("and\nif\n");
  });

  test("a bash started by the task (exported function, re-serialized by bash) encodes the same", async () => {
    const args = [latin1("\x01\x7f\x01"), EVERY_BYTE, utf8('"\\\n')];
    const run = await runBash(`"$BASH" -c 'snapshot "$@"' inner ${args.map(ansiC).join(" ")}`);
    expectClean(run);
    expect(argsOf(run.lines[0]!)).toEqual(hexOf(args));
  });

  test("called in a subshell, exit 0 ends only the subshell", async () => {
    const run = await runBash("(snapshot a; echo inside); echo outside", { reply: REPLY_SKIP });
    expectClean(run);
    expect(run.stdout).toBe("outside\n");
  });
});
