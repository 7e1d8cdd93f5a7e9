import { describe, expect, test } from "bun:test";
import { LineSplitter } from "../../src/output/lines.ts";
import {
  REPLY_CONTINUE,
  REPLY_ERROR,
  REPLY_SKIP,
  decodeRequest,
  encodeRequest,
  invalidRequestMessage,
  unknownCommandMessage,
  type Request,
} from "../../src/protocol/messages.ts";

const latin1 = (s: string) => Buffer.from(s, "latin1");
const utf8 = (s: string) => Buffer.from(s, "utf8");

/** A request with its byte words shown as hex, so toEqual compares bytes, not Buffer objects. */
function plain(r: Request): unknown {
  switch (r.kind) {
    case "snapshot":
      return { kind: r.kind, args: r.args.map((a) => a.toString("hex")) };
    case "debug":
      return { kind: r.kind, words: r.words.map((a) => a.toString("hex")) };
    case "unknown":
      return r;
    case "invalid":
      return { kind: r.kind, line: r.line };
    default: {
      const never: never = r;
      return never;
    }
  }
}

const hexOf = (words: Uint8Array[]) => words.map((w) => Buffer.from(w).toString("hex"));

/** Argument lists as bytes; the word lists below are ["snapshot" | "debug", ...these]. */
const ARGUMENT_LISTS: [string, Buffer[]][] = [
  ["no arguments", []],
  ["plain words", [utf8("src"), utf8("--raw"), utf8("v1")]],
  ["empty argument", [utf8("")]],
  ["quotes and backslashes", [utf8('a"b\\c'), utf8('\\"'), utf8("\\\\n")]],
  ["control characters", [utf8("line\nnext\ttab\rcr\bbs\fff\x01\x1b\x1f")]],
  ["DEL", [utf8("\x7f")]],
  ["spaces and JSON syntax", [utf8(' [",] '), utf8("{}"), utf8("null")]],
  ["UTF-8", [utf8("é"), utf8("日本"), utf8("🙂"), utf8("\u2028\u2029")]],
  ["invalid UTF-8", [latin1("\xff"), latin1("\xc3("), latin1("caf\xe9"), latin1("\x80\x81\xfe")]],
  ["invalid UTF-8 beside valid UTF-8", [utf8("é🙂"), latin1("\xe9"), latin1("\xed\xb2\x80")]],
  ["every byte 1..255", [Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1))]],
  ["NUL (not from bash, but encodable)", [Buffer.from([0, 65, 0])]],
  ["many arguments", Array.from({ length: 100 }, (_, i) => utf8(`arg ${i}`))],
];

describe("encodeRequest / decodeRequest", () => {
  test.each(ARGUMENT_LISTS)("%s: round trip of snapshot and debug", (_name, args) => {
    const snapshot = encodeRequest(["snapshot", ...args]);
    expect(snapshot[snapshot.length - 1]).toBe(10);
    expect(snapshot.subarray(0, -1).includes(10)).toBe(false);
    expect(plain(decodeRequest(snapshot.subarray(0, -1)))).toEqual({ kind: "snapshot", args: hexOf(args) });
    const debug = encodeRequest(["debug", ...args]);
    expect(plain(decodeRequest(debug.subarray(0, -1)))).toEqual({ kind: "debug", words: hexOf(args) });
  });

  test("strings are encoded as their UTF-8 bytes", () => {
    const words = ["debug", "Starting subtask", "é 🙂", 'q"\\'];
    expect(Buffer.from(encodeRequest(words))).toEqual(Buffer.from(encodeRequest(words.map(utf8))));
  });

  test.each(ARGUMENT_LISTS.filter(([name]) => !name.includes("invalid") && !name.includes("NUL")))(
    "%s: equals JSON.stringify for valid UTF-8",
    (_name, args) => {
      const words = ["snapshot", ...args.map((a) => a.toString("utf8"))];
      expect(Buffer.from(encodeRequest(words)).toString("utf8")).toBe(JSON.stringify(words) + "\n");
    },
  );

  const ENCODINGS: [string, (string | Uint8Array)[], string][] = [
    ["empty list", [], "[]\n"],
    ["short escapes", ["\b\t\n\f\r"], '["\\b\\t\\n\\f\\r"]\n'],
    ["other control characters are lowercase \\u00xx", ["\x01\x0b\x1b\x1f"], '["\\u0001\\u000b\\u001b\\u001f"]\n'],
    ["quote and backslash", ['"\\'], '["\\"\\\\"]\n'],
    ["DEL is raw", ["\x7f"], '["\x7f"]\n'],
    ["no spaces after commas", ["a", "b", ""], '["a","b",""]\n'],
  ];
  test.each(ENCODINGS)("encodes %s exactly", (_name, words, expected) => {
    expect(Buffer.from(encodeRequest(words)).toString("latin1")).toBe(expected);
  });

  test("bytes >= 0x80 are written raw", () => {
    expect([...encodeRequest([latin1("\x80\xff")])]).toEqual([...latin1('["\x80\xff"]\n')]);
  });

  test("a 200 KB argument round-trips", () => {
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 255 + 1));
    const line = encodeRequest(["snapshot", big]);
    const r = decodeRequest(line.subarray(0, -1));
    expect(r.kind).toBe("snapshot");
    if (r.kind === "snapshot") expect(Buffer.compare(r.args[0]!, big)).toBe(0);
  });
});

describe("decodeRequest", () => {
  const DECODED: [string, string, Request][] = [
    ["snapshot without arguments", '["snapshot"]', { kind: "snapshot", args: [] }],
    ["white space around and inside", ' [ "snapshot" , "a" ] ', { kind: "snapshot", args: [utf8("a")] }],
    ["\\u escapes", '["snapshot","\\u00e9\\ud83d\\ude42\\u0041"]', { kind: "snapshot", args: [utf8("é🙂A")] }],
    ["\\/ escape", '["debug","a\\/b"]', { kind: "debug", words: [utf8("a/b")] }],
    ["a trailing \\r is white space", '["debug","x"]\r', { kind: "debug", words: [utf8("x")] }],
    ["unknown command", '["frobnicate"]', { kind: "unknown", json: '["frobnicate"]' }],
    ["unknown command, trimmed", '  ["frobnicate", "x"]  ', { kind: "unknown", json: '["frobnicate", "x"]' }],
    ["command is case-sensitive", '["Snapshot"]', { kind: "unknown", json: '["Snapshot"]' }],
    ["empty command", '[""]', { kind: "unknown", json: '[""]' }],
  ];
  test.each(DECODED)("%s", (_name, line, expected) => {
    expect(plain(decodeRequest(utf8(line)))).toEqual(plain(expected));
  });

  // Lines that are not valid UTF-8 (given as latin1): raw bytes stay bytes, escapes become UTF-8.
  const RAW: [string, string, Buffer[]][] = [
    ["a raw byte", '["snapshot","\xff"]', [latin1("\xff")]],
    ["raw bytes with escapes around", '["snapshot","a\\n\xe9\\"b"]', [latin1('a\n\xe9"b')]],
    ["a \\u escape next to a raw byte is UTF-8", '["snapshot","\\u00e9\xe9"]', [latin1("\xc3\xa9\xe9")]],
    ["an astral \\u pair next to a raw byte", '["snapshot","\\ud83d\\udc80\x80"]', [Buffer.concat([utf8("💀"), latin1("\x80")])]],
    ["valid UTF-8 in one word, invalid in another", '["snapshot","\xc3\xa9","\xc3"]', [latin1("\xc3\xa9"), latin1("\xc3")]],
  ];
  test.each(RAW)("not UTF-8: %s", (_name, line, args) => {
    expect(plain(decodeRequest(latin1(line)))).toEqual(plain({ kind: "snapshot", args }));
  });

  test("two different binary values never decode the same", () => {
    const seen = new Set<string>();
    for (let b = 0x80; b <= 0xff; b++) {
      const r = decodeRequest(encodeRequest(["snapshot", Buffer.from([b])]).subarray(0, -1));
      expect(r.kind).toBe("snapshot");
      if (r.kind === "snapshot") seen.add(r.args[0]!.toString("hex"));
    }
    expect(seen.size).toBe(128);
  });

  const JUNK: [string, Buffer][] = [
    ["hello", utf8("hello")],
    ["{}", utf8("{}")],
    ["[]", utf8("[]")],
    ["[1]", utf8("[1]")],
    ['["snapshot", 1]', utf8('["snapshot", 1]')],
    ['["snapshot", null]', utf8('["snapshot", null]')],
    ['["snapshot", ["nested"]]', utf8('["snapshot", ["nested"]]')],
    ['"snapshot"', utf8('"snapshot"')],
    ["null", utf8("null")],
    ["truncated JSON", utf8('["snapshot", "a')],
    ["truncated after comma", utf8('["snapshot",')],
    ["trailing comma", utf8('["snapshot",]')],
    ["two arrays", utf8('["debug"]["debug"]')],
    ["raw control character in a string", utf8('["snapshot","a\tb"]')],
    ["empty line", utf8("")],
    ["only white space", utf8("   ")],
    ["BOM", utf8('\ufeff["snapshot"]')],
    ["invalid UTF-8 junk", latin1("\xff\xfe\x80junk")],
    ["invalid UTF-8 outside the strings", latin1('["snapshot"\xff]')],
    ["invalid UTF-8 with a non-string element", latin1('["snapshot","\xff",2]')],
    ["binary noise", Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97) % 256).filter((b) => b !== 10))],
  ];
  test.each(JUNK)("junk %s is invalid, with a reason and the line", (_name, line) => {
    const r = decodeRequest(line);
    expect(r.kind).toBe("invalid");
    if (r.kind !== "invalid") return;
    expect(r.reason.length).toBeGreaterThan(0);
    expect(r.line).toBe(line.toString("utf8"));
  });

  test("reasons say what is wrong", () => {
    const reason = (s: string) => (decodeRequest(utf8(s)) as { reason: string }).reason;
    expect(reason("hello")).toStartWith("not JSON: ");
    expect(reason("{}")).toBe("not a JSON array");
    expect(reason("[]")).toBe("empty array, expected a command");
    expect(reason('["snapshot", 1]')).toBe("element 1 is not a string: 1");
  });

  test("decodes a subarray of a larger buffer without reading outside it", () => {
    const buffer = utf8('xx["debug","a"]yy');
    expect(plain(decodeRequest(buffer.subarray(2, buffer.length - 2)))).toEqual(plain({ kind: "debug", words: [utf8("a")] }));
  });
});

describe("a request stream through LineSplitter", () => {
  const requests: (string | Uint8Array)[][] = [
    ["snapshot", "src", "--raw", latin1("\xff\x00\n"), "-o", "dist"],
    ["debug", "Starting subtask", "inner"],
    ["snapshot"],
    ["debug", "é 🙂 日本", "tab\there"],
    ["snapshot", "", "line1\nline2\r\n", latin1("\x80\xc3")],
    ["frobnicate", "x"],
  ];
  const stream = Buffer.concat(requests.map((r) => encodeRequest(r)));
  const expected = requests.map((r) => plain(decodeRequest(encodeRequest(r).subarray(0, -1))));

  function decodeAll(chunks: Uint8Array[]): unknown[] {
    const splitter = new LineSplitter();
    const out = chunks.flatMap((c) => splitter.push(c)).map((l) => plain(decodeRequest(l)));
    expect(splitter.end()).toBeNull();
    return out;
  }

  test("the stream holds one line per request", () => {
    expect(stream.filter((b) => b === 10).length).toBe(requests.length);
    expect(expected.map((r) => (r as { kind: string }).kind)).toEqual(["snapshot", "debug", "snapshot", "debug", "snapshot", "unknown"]);
  });

  test("every split point gives the same requests", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(decodeAll([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
  });

  test("one byte per chunk gives the same requests", () => {
    expect(decodeAll(Array.from(stream, (_, i) => stream.subarray(i, i + 1)))).toEqual(expected);
  });

  test("every pair of split points gives the same requests", () => {
    for (let a = 0; a <= stream.length; a += 3) {
      for (let b = a; b <= stream.length; b += 2) {
        expect(decodeAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)])).toEqual(expected);
      }
    }
  });
});

describe("replies and messages", () => {
  test("replies are single lines of shell code", () => {
    expect([REPLY_CONTINUE, REPLY_SKIP, REPLY_ERROR]).toEqual(["true\n", "exit 0\n", "exit 1\n"]);
  });

  const INVALID: [string, Buffer, string][] = [
    ["plain", utf8("hello"), 'Invalid command pipe request: "hello"'],
    ["quotes and backslashes", utf8('["snapshot", 1, "a\\"b"]'), 'Invalid command pipe request: "[\\"snapshot\\", 1, \\"a\\\\\\"b\\"]"'],
    ["control characters stay on one line", utf8("a\tb\rc"), 'Invalid command pipe request: "a\\tb\\rc"'],
    ["empty", utf8(""), 'Invalid command pipe request: ""'],
    ["invalid UTF-8 is shown lossily", latin1("x\xffy"), 'Invalid command pipe request: "x\ufffdy"'],
  ];
  test.each(INVALID)("invalid request message: %s", (_name, line, message) => {
    const r = decodeRequest(line);
    if (r.kind !== "invalid") throw new Error(`expected invalid, got ${r.kind}`);
    expect(invalidRequestMessage(r)).toBe(message);
    expect(invalidRequestMessage(r).includes("\n")).toBe(false);
  });

  const UNKNOWN: [string, string][] = [
    ['["frobnicate"]', 'Unknown command in command pipe: ["frobnicate"]'],
    [' ["frob", "a b"] ', 'Unknown command in command pipe: ["frob", "a b"]'],
    ['["x","é"]', 'Unknown command in command pipe: ["x","é"]'],
  ];
  test.each(UNKNOWN)("unknown command message for %s", (line, message) => {
    const r = decodeRequest(utf8(line));
    if (r.kind !== "unknown") throw new Error(`expected unknown, got ${r.kind}`);
    expect(unknownCommandMessage(r)).toBe(message);
  });
});
