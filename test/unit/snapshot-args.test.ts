import { describe, expect, test } from "bun:test";
import { parseSnapshotArgs, type SnapshotOptions } from "../../src/protocol/snapshot-args.ts";

const utf8 = (s: string) => Buffer.from(s, "utf8");
const latin1 = (s: string) => Buffer.from(s, "latin1");

const DEFAULTS: SnapshotOptions = {
  inputs: [],
  raw: [],
  fuzzyCache: false,
  cacheRoot: null,
  cacheVersion: null,
  commitStatus: false,
  cacheSuccess: false,
  outputs: [],
  outputsGiven: false,
  postUnpack: [],
};

/** Options with the `--raw` bytes shown as hex, so toEqual compares bytes. */
const plain = (o: SnapshotOptions) => ({ ...o, raw: o.raw.map((r) => r.toString("hex")) });

function parse(args: (string | Buffer)[]) {
  return parseSnapshotArgs(args.map((a) => (typeof a === "string" ? utf8(a) : a)));
}

const VALID: [string, (string | Buffer)[], Partial<SnapshotOptions>][] = [
  ["nothing", [], {}],
  ["inputs", ["src", "package.json"], { inputs: ["src", "package.json"] }],
  ["inputs with spaces and non-ASCII", ["my dir/a b.txt", "é/日本"], { inputs: ["my dir/a b.txt", "é/日本"] }],
  ["an empty input", [""], { inputs: [""] }],
  ["--raw", ["--raw", "v1", "--raw", "v2"], { raw: [utf8("v1"), utf8("v2")] }],
  ["--raw keeps bytes", ["--raw", latin1("\xff\x00\xc3")], { raw: [latin1("\xff\x00\xc3")] }],
  ["--raw takes a value that looks like an option", ["--raw", "--outputs", "--raw", "-x"], { raw: [utf8("--outputs"), utf8("-x")] }],
  ["--raw with an empty value", ["--raw", ""], { raw: [utf8("")] }],
  ["--raw=VALUE", ["--raw=a=b", latin1("--raw=\xff")], { raw: [utf8("a=b"), latin1("\xff")] }],
  ["--raw= (empty)", ["--raw="], { raw: [utf8("")] }],
  ["flags", ["--fuzzy-cache", "--commit-status", "--cache-success"], { fuzzyCache: true, commitStatus: true, cacheSuccess: true }],
  ["no-effect flags", ["-l", "--long-running", "-n", "--unskippable", "in"], { inputs: ["in"] }],
  ["--cache-root and --cache-version", ["--cache-root", "/tmp/root", "--cache-version", "3"], { cacheRoot: "/tmp/root", cacheVersion: "3" }],
  ["the last --cache-root wins", ["--cache-root", "a", "--cache-root=b"], { cacheRoot: "b" }],
  ["--cache-version=V", ["--cache-version=v2.1"], { cacheVersion: "v2.1" }],
  ["--outputs splits inputs from outputs", ["in1", "in2", "--outputs", "out1", "out2"], { inputs: ["in1", "in2"], outputs: ["out1", "out2"], outputsGiven: true }],
  ["-o", ["in", "-o", "out"], { inputs: ["in"], outputs: ["out"], outputsGiven: true }],
  ["--outputs with no outputs", ["in", "--outputs"], { inputs: ["in"], outputsGiven: true }],
  ["--outputs twice", ["-o", "a", "--outputs", "b"], { outputs: ["a", "b"], outputsGiven: true }],
  [
    "options anywhere",
    ["in1", "--raw", "r", "in2", "--fuzzy-cache", "-o", "out1", "--cache-root", "root", "out2", "--commit-status"],
    { inputs: ["in1", "in2"], raw: [utf8("r")], fuzzyCache: true, outputs: ["out1", "out2"], outputsGiven: true, cacheRoot: "root", commitStatus: true },
  ],
  [
    "--cmd after --outputs",
    ["in", "-o", "out", "-c", "echo unpacked", "--cmd", "touch stamp", "out2"],
    { inputs: ["in"], outputs: ["out", "out2"], outputsGiven: true, postUnpack: ["echo unpacked", "touch stamp"] },
  ],
  ["--cmd=COMMAND", ["-o", "--cmd=make x=1"], { outputsGiven: true, postUnpack: ["make x=1"] }],
  ["--cmd value starting with -", ["-o", "-c", "-rm"], { outputsGiven: true, postUnpack: ["-rm"] }],
  ["a lone - is a bare word", ["-", "-o", "-"], { inputs: ["-"], outputs: ["-"], outputsGiven: true }],
  ["-- ends the options", ["a", "--", "-b", "--raw", "-o"], { inputs: ["a", "-b", "--raw", "-o"] }],
  ["-- after --outputs", ["-o", "--", "-x"], { outputs: ["-x"], outputsGiven: true }],
  ["a second -- is a bare word", ["--", "--"], { inputs: ["--"] }],
];

describe("parseSnapshotArgs", () => {
  test.each(VALID)("%s", (_name, args, expected) => {
    const result = parse(args);
    if (!result.ok) throw new Error(result.error);
    expect(plain(result.value)).toEqual(plain({ ...DEFAULTS, ...expected }));
  });

  const INVALID: [string, (string | Buffer)[], string][] = [
    ["unknown long option", ["--frobnicate"], "snapshot: Invalid option or missing argument: --frobnicate"],
    ["unknown short option", ["in", "-x"], "snapshot: Invalid option or missing argument: -x"],
    ["bundled short flags", ["-ln"], "snapshot: Invalid option or missing argument: -ln"],
    ["a flag given a value", ["--fuzzy-cache=yes"], "snapshot: Invalid option or missing argument: --fuzzy-cache=yes"],
    ["-o with a value", ["-o=x"], "snapshot: Invalid option or missing argument: -o=x"],
    ["short option with =", ["-c=x"], "snapshot: Invalid option or missing argument: -c=x"],
    ["an unknown option after inputs", ["a", "b", "--verbose", "c"], "snapshot: Invalid option or missing argument: --verbose"],
    ["--raw without a value", ["in", "--raw"], "snapshot: Invalid option or missing argument: --raw"],
    ["--cache-root without a value", ["--cache-root"], "snapshot: Invalid option or missing argument: --cache-root"],
    ["--cache-version without a value", ["--cache-version"], "snapshot: Invalid option or missing argument: --cache-version"],
    ["--cmd without a value", ["-o", "out", "--cmd"], "snapshot: Invalid option or missing argument: --cmd"],
    ["-c without a value", ["-o", "-c"], "snapshot: Invalid option or missing argument: -c"],
    ["--cmd before --outputs", ["in", "--cmd", "echo hi", "-o", "out"], "snapshot: --cmd is supported only after --outputs"],
    ["-c before --outputs", ["-c", "echo hi"], "snapshot: --cmd is supported only after --outputs"],
    ["-c before --outputs without a value", ["-c"], "snapshot: --cmd is supported only after --outputs"],
    ["--cmd= before --outputs", ["--cmd=x"], "snapshot: --cmd is supported only after --outputs"],
    ["an option with non-ASCII", ["--é"], "snapshot: Invalid option or missing argument: --é"],
    ["an input that is not UTF-8", [latin1("caf\xe9")], 'snapshot: Argument is not valid UTF-8: "caf\ufffd" (only --raw values may be binary)'],
    ["an output that is not UTF-8", ["-o", latin1("\xff")], 'snapshot: Argument is not valid UTF-8: "\ufffd" (only --raw values may be binary)'],
    ["a --cache-root that is not UTF-8", ["--cache-root", latin1("\xff")], 'snapshot: Argument is not valid UTF-8: "\ufffd" (only --raw values may be binary)'],
    ["a --cmd that is not UTF-8", ["-o", "--cmd", latin1("echo \xff")], 'snapshot: Argument is not valid UTF-8: "echo \ufffd" (only --raw values may be binary)'],
  ];
  test.each(INVALID)("error: %s", (_name, args, message) => {
    expect(parse(args)).toEqual({ ok: false, error: message });
  });

  test("--raw values are the request bytes, not decoded text", () => {
    const value = latin1("\x80\x81");
    const result = parseSnapshotArgs([utf8("--raw"), value]);
    if (!result.ok) throw new Error(result.error);
    expect(Buffer.compare(result.value.raw[0]!, value)).toBe(0);
  });
});
