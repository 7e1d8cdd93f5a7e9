import { describe, expect, test } from "bun:test";
import { LineSplitter, joinBytes } from "../../src/output/lines.ts";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const hex = (lines: Uint8Array[]) => lines.map((l) => Buffer.from(l).toString("hex"));

/** All lines of `chunks`, the final partial one included. */
function split(chunks: Uint8Array[]): Uint8Array[] {
  const splitter = new LineSplitter();
  const lines = chunks.flatMap((c) => splitter.push(c));
  const last = splitter.end();
  if (last !== null) lines.push(last);
  return lines;
}

/** The expected lines, computed the slow obvious way. */
function reference(stream: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] === 10) {
      lines.push(stream.slice(start, i));
      start = i + 1;
    }
  }
  if (start < stream.length) lines.push(stream.slice(start));
  return lines;
}

// latin1 strings, so "\xff" is the single byte 0xff (invalid UTF-8 on its own).
const STREAMS: [string, string][] = [
  ["empty stream", ""],
  ["one line", "hello\n"],
  ["no trailing newline", "one\ntwo"],
  ["only a partial line", "partial"],
  ["empty lines", "\n\n\na\n\n"],
  ["just a newline", "\n"],
  ["CRLF keeps \\r", "dos\r\nline\r\n\r\n"],
  ["lone \\r is not a break", "a\rb\rc\n"],
  ["invalid UTF-8", "\xff\xfe\n\xc3(\n\xe2\x82\nend\x80"],
  ["valid UTF-8", "\xc3\xa9t\xc3\xa9\n\xe6\x97\xa5\xe6\x9c\xac\n\xf0\x9f\x99\x82"],
  ["NUL bytes", "\x00a\x00\n\x00"],
  ["mixed", "first\r\n\n\xffsecond\nthird without newline\r"],
];

describe("LineSplitter", () => {
  test.each(STREAMS)("%s: every single split point gives the same lines", (_name, text) => {
    const stream = bytes(text);
    const expected = hex(reference(stream));
    expect(hex(split([stream]))).toEqual(expected);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(hex(split([stream.subarray(0, cut), stream.subarray(cut)]))).toEqual(expected);
    }
  });

  test.each(STREAMS)("%s: every pair of split points gives the same lines", (_name, text) => {
    const stream = bytes(text);
    const expected = hex(reference(stream));
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        expect(hex(split(chunks))).toEqual(expected);
      }
    }
  });

  test.each(STREAMS)("%s: one byte per chunk gives the same lines", (_name, text) => {
    const stream = bytes(text);
    const chunks = Array.from(stream, (_, i) => stream.subarray(i, i + 1));
    expect(hex(split(chunks))).toEqual(hex(reference(stream)));
  });

  test("lines exclude the newline and keep every other byte", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const stream = new Uint8Array([...all, 10, ...all]);
    const lines = split([stream]);
    expect(lines.map((l) => [...l])).toEqual([[...all.subarray(0, 10)], [...all.subarray(11)], [...all.subarray(0, 10)], [...all.subarray(11)]]);
  });

  test("end() returns null when the stream ended with a newline, and resets", () => {
    const splitter = new LineSplitter();
    expect(hex(splitter.push(bytes("a\nb")))).toEqual(hex([bytes("a")]));
    expect(hex([splitter.end()!])).toEqual(hex([bytes("b")]));
    expect(splitter.end()).toBeNull();
    expect(hex(splitter.push(bytes("c\n")))).toEqual(hex([bytes("c")]));
    expect(splitter.end()).toBeNull();
  });

  test("empty chunks change nothing", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(new Uint8Array(0))).toEqual([]);
    expect(splitter.push(bytes("x"))).toEqual([]);
    expect(splitter.push(new Uint8Array(0))).toEqual([]);
    expect(hex(splitter.push(bytes("\n")))).toEqual(hex([bytes("x")]));
    expect(splitter.end()).toBeNull();
  });

  test("a 1 MiB line in 64 KiB chunks, between short lines, comes out whole and exact", () => {
    const long = new Uint8Array(1024 * 1024).map((_, i) => (i * 7 + 3) % 256 || 1).map((b) => (b === 10 ? 11 : b));
    const stream = new Uint8Array([...bytes("before\n"), ...long, ...bytes("\nafter\n")]);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += 64 * 1024) chunks.push(stream.subarray(at, at + 64 * 1024));
    const started = performance.now();
    const lines = split(chunks);
    const elapsed = performance.now() - started;
    expect(lines.length).toBe(3);
    expect(Buffer.from(lines[0]!).toString()).toBe("before");
    expect(Buffer.compare(lines[1]!, long)).toBe(0);
    expect(Buffer.from(lines[2]!).toString()).toBe("after");
    // Generous: one copy of 1 MiB takes well under a millisecond; quadratic joining takes far more.
    expect(elapsed).toBeLessThan(200);
  });

  test("a 64 MiB line in 64 KiB chunks is joined in linear time", () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const splitter = new LineSplitter();
    const started = performance.now();
    for (let i = 0; i < 1024; i++) expect(splitter.push(chunk)).toEqual([]);
    const [line] = splitter.push(bytes("\n"));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(line!.length).toBe(64 * 1024 * 1024);
    expect(line![12345]).toBe(0x61);
  });

  test("20,000 short lines in 64 KiB chunks", () => {
    const text = Array.from({ length: 20000 }, (_, i) => `line ${i} ${"x".repeat(i % 80)}`).join("\n") + "\n";
    const stream = bytes(text);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += 65536) chunks.push(stream.subarray(at, at + 65536));
    const lines = split(chunks);
    expect(lines.length).toBe(20000);
    expect(Buffer.from(lines[19999]!).toString("latin1")).toBe(`line 19999 ${"x".repeat(19999 % 80)}`);
    expect(hex(lines)).toEqual(hex(reference(stream)));
  });
});

describe("joinBytes", () => {
  const b = (s: string) => Buffer.from(s, "latin1");
  test.each([
    [[], 10, ""],
    [["a"], 10, "a"],
    [["a", "", "b\xff"], 10, "a\n\nb\xff"],
    [["x", "y"], 32, "x y"],
  ] as [string[], number, string][])("%j joined by %d", (parts, sep, expected) => {
    expect(Buffer.from(joinBytes(parts.map(b), sep)).toString("latin1")).toBe(expected);
  });
});
