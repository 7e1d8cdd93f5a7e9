import { describe, expect, test } from "bun:test";
import { DeclareSyntaxError, parseDeclared, parseFunctions } from "../../src/nest/declare-text.ts";
import { EnvCache, parseCall } from "../../src/nest/request.ts";
import { requestLength, secretOf } from "../../src/nest/server.ts";

const BASH = Bun.which("bash") ?? "/bin/bash";
const b = (s: string) => Buffer.from(s, "latin1");

/** What bash prints for `script` (bytes). */
function bash(script: string, env: Record<string, string> = {}): Buffer {
  const r = Bun.spawnSync([BASH, "-c", script], { env: { PATH: "/usr/bin:/bin", ...env } });
  if (r.exitCode !== 0) throw new Error(`bash failed: ${r.stderr.toString()}`);
  return r.stdout;
}

describe("parseDeclared: bash's quoting, as written", () => {
  const cases: [string, string, { name: string; flags: string; value: string | string[] | null }][] = [
    ["double quotes", 'declare -x A="plain"\n', { name: "A", flags: "x", value: "plain" }],
    ["escapes in double quotes", 'declare -x B="he said \\"hi\\" \\$HOME \\`x\\` \\\\back"\n', { name: "B", flags: "x", value: 'he said "hi" $HOME `x` \\back' }],
    ["a backslash before another byte stays", 'declare -x C="a\\nb"\n', { name: "C", flags: "x", value: "a\\nb" }],
    ["raw newline in double quotes (older bash)", 'declare -x D="one\ntwo"\n', { name: "D", flags: "x", value: "one\ntwo" }],
    ["ANSI-C quoting", "declare -x E=$'tab\\there\\001\\177\\E\\a\\b\\v\\f\\r\\\\\\'\"q'\n", { name: "E", flags: "x", value: "tab\there\x01\x7f\x1b\x07\x08\x0b\x0c\r\\'\"q" }],
    ["octal bytes", "declare -x F=$'\\303\\251\\377'\n", { name: "F", flags: "x", value: "\xc3\xa9\xff" }],
    ["hex and control escapes", "declare -x G=$'\\x41\\x4a\\cA'\n", { name: "G", flags: "x", value: "AJ\x01" }],
    ["no value", "declare -x H\n", { name: "H", flags: "x", value: null }],
    ["other attributes", 'declare -rx I="1"\ndeclare -ix J="5"\n', { name: "I", flags: "rx", value: "1" }],
    ["empty", 'declare -x K=""\n', { name: "K", flags: "x", value: "" }],
    ["an indexed array", 'declare -a L=([0]="a b" [1]=$\'c\\nd\' [2]="")\n', { name: "L", flags: "a", value: ["a b", "c\nd", ""] }],
    ["an empty array", "declare -a M=()\n", { name: "M", flags: "a", value: [] }],
    ["a plain variable", 'declare -- N="7"\n', { name: "N", flags: "", value: "7" }],
  ];
  test.each(cases)("%s", (_, text, expected) => {
    const [first] = parseDeclared(b(text));
    const value = first!.value;
    const shown = value === null ? null : Array.isArray(value) ? value.map((v) => Buffer.from(v).toString("latin1")) : Buffer.from(value).toString("latin1");
    expect({ name: first!.name, flags: first!.flags, value: shown }).toEqual(expected);
  });

  test.each([["not declare", "export A=1\n"], ["unterminated", 'declare -x A="open\n'], ["no name", "declare -x =1\n"]])("junk is an error: %s", (_, text) => {
    expect(() => parseDeclared(b(text))).toThrow(DeclareSyntaxError);
  });
});

describe("parseDeclared: round trips through real bash", () => {
  // Every byte 1..255 alone and all together, in the locales bash prints differently.
  const bytes = Array.from({ length: 255 }, (_, i) => i + 1);
  const values = [...bytes.map((x) => [x]), bytes, [0xc3, 0xa9, 0x20, 0xe2, 0x9c, 0x93], [0xff, 0xfe, 0x5c, 0x22, 0x27]];
  for (const locale of ["C", "C.UTF-8"]) {
    test(`every byte, ${locale}`, () => {
      const assign = values.map((v, i) => `export V${i}=$'${v.map((x) => `\\x${x.toString(16).padStart(2, "0")}`).join("")}'`).join("\n");
      const printed = bash(`${assign}\ndeclare -px ${values.map((_, i) => `V${i}`).join(" ")}`, { LC_ALL: locale });
      const parsed = parseDeclared(printed);
      expect(parsed.map((d) => [...(d.value as Uint8Array)])).toEqual(values);
    });
    test(`an array of every byte, ${locale}`, () => {
      const assign = `a=(${values.map((v) => `$'${v.map((x) => `\\x${x.toString(16).padStart(2, "0")}`).join("")}'`).join(" ")})`;
      const [parsed] = parseDeclared(bash(`${assign}\ndeclare -p a`, { LC_ALL: locale }));
      expect((parsed!.value as Uint8Array[]).map((v) => [...v])).toEqual(values);
    });
  }
});

describe("parseFunctions", () => {
  test("functions as bash prints them, a heredoc that looks like a separator included", () => {
    const text = bash(`a() { cat <<XX
declare -fx b
}
XX
}
b() { echo "b $1"; }
my-func() { :; }
export -f a b my-func
declare -fx`).toString("utf8");
    const fns = parseFunctions(text);
    expect(fns.map((f) => f.name)).toEqual(["a", "b", "my-func"]);
    expect(fns[0]!.body).toContain("declare -fx b\n}\nXX");
    expect(fns[1]!.body).toBe('{ \n    echo "b $1"\n}');
    // What bash imports: `() {` and the body, as an exported function.
    const out = bash(`b`, { "BASH_FUNC_b%%": `() ${fns[1]!.body}` });
    expect(out.toString()).toBe("b \n");
  });
  test("no functions", () => expect(parseFunctions("")).toEqual([]));
  test("junk is an error", () => expect(() => parseFunctions("nonsense\n")).toThrow(DeclareSyntaxError));
});

describe("request", () => {
  const request = b('s3cret\ndeclare -a __tr_argv=([0]="-n" [1]="t" [2]="echo")\ndeclare -- __tr_pid="42"\n\0declare -x A="1"\ndeclare -x B\ndeclare -ax C=([0]="x")\ndeclare -x __tr_fd="12"\n\0f () \n{ \n    :\n}\ndeclare -fx f\n\0');

  test("requestLength waits for the third NUL", () => {
    expect(requestLength(request.subarray(0, request.length - 1))).toBe(-1);
    expect(requestLength(request)).toBe(request.length);
  });
  test("secretOf waits for the first newline", () => {
    expect(secretOf(b("s3c"))).toBeNull();
    expect(secretOf(request)).toBe("s3cret");
  });
  test("parseCall: arguments, pid, exported scalars and functions; no arrays, no valueless or own variables", () => {
    expect(parseCall(request)).toEqual({ ok: true, value: { argv: ["-n", "t", "echo"], pid: 42, env: { A: "1", "BASH_FUNC_f%%": "() { \n    :\n}" } } });
  });
  test("parseCall with a cache: the same variables and functions give the same environment, other bytes a new one", () => {
    const cache = new EnvCache();
    const call = (args: string, a: string) => parseCall(b(`s\ndeclare -a __tr_argv=(${args})\ndeclare -- __tr_pid="7"\n\0declare -x A="${a}"\n\0\0`), cache);
    const first = call('[0]="x"', "1");
    const again = call('[0]="y" [1]="z"', "1");
    const other = call('[0]="x"', "2");
    if (!first.ok || !again.ok || !other.ok) throw new Error("not parsed");
    expect(again.value.argv).toEqual(["y", "z"]);
    expect(again.value.env).toBe(first.value.env);
    expect(other.value.env).toEqual({ A: "2" });
    const back = call('[0]="x"', "1");
    expect(back.ok && back.value.env).toBe(first.value.env);
  });
  test("an EnvCache keeps its newest environments, and none larger than its bound", () => {
    const cache = new EnvCache(2, 8);
    const env = (n: number) => ({ N: String(n) });
    cache.set(b("one"), env(1));
    cache.set(b("two"), env(2));
    cache.set(b("three"), env(3));
    cache.set(b("too large!"), env(4));
    expect(cache.get(b("one"))).toBeUndefined();
    expect(cache.get(b("two"))).toEqual({ N: "2" });
    expect(cache.get(b("three"))).toEqual({ N: "3" });
    expect(cache.get(b("too large!"))).toBeUndefined();
  });
  test("parseCall: bytes that are not UTF-8 become U+FFFD, as the runtime decodes argv", () => {
    const r = parseCall(b("s\ndeclare -a __tr_argv=([0]=$'\\377x')\ndeclare -- __tr_pid=\"1\"\n\0\0\0"));
    expect(r.ok && r.value.argv).toEqual(["\ufffdx"]);
  });
  test.each([
    ["no sections", "s\n"],
    ["a first section that is not declare -p (an umask before it, as an older function sent)", 's\n0022\ndeclare -a __tr_argv=()\ndeclare -- __tr_pid="1"\n\0\0\0'],
    ["no arguments", 's\ndeclare -- __tr_pid="1"\n\0\0\0'],
    ["no pid", "s\ndeclare -a __tr_argv=()\n\0\0\0"],
    ["junk", "s\nrm -rf /\n\0\0\0"],
  ])("parseCall: %s is an error", (_, text) => {
    expect(parseCall(b(text)).ok).toBe(false);
  });
});
