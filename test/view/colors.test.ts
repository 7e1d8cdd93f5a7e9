// The colored task line: the same bytes as without the view once colors are stripped, a stable
// color per name, red errors, yellow warnings, dim timestamps.
import { test, expect } from "bun:test";
import { colorLine, nameColorIndex, NAME_PALETTE, coloredPrefix, type ViewLine } from "../../src/view/colors.ts";
import { joinLine, terminalPrefix, type StreamWord } from "../../src/output/format.ts";

const encoder = new TextEncoder();
/** Removes SGR (color and style) sequences: what the line is without colors. */
const stripSgr = (bytes: Uint8Array) => Buffer.from(Buffer.from(bytes).toString("latin1").replace(/\x1b\[[0-9;]*m/g, ""), "latin1");

const bytesCases: [string, Uint8Array][] = [
  ["text", encoder.encode("hello world")],
  ["empty", new Uint8Array(0)],
  ["invalid UTF-8", new Uint8Array([0xff, 0xfe, 0x41, 0xc3, 0x28, 0x80])],
  ["carriage return and tab", encoder.encode("50%\r100%\tdone")],
  ["UTF-8 text", encoder.encode("漢字 ✓ é")],
  ["its own colors", encoder.encode("\x1b[1;32mok\x1b[0m and \x1b[31mopen")],
];

test.each(["stdout", "stderr", "info", "warn", "error", "debug"] as StreamWord[])("stripped of colors, a %s line is the plain line, byte for byte", (stream) => {
  for (const timestamp of ["", "12:34:56 "]) {
    for (const [, bytes] of bytesCases) {
      const line: ViewLine = { timestamp, name: "gen", stream, bytes };
      const plain = Buffer.from(joinLine(terminalPrefix(timestamp, "gen", stream), bytes));
      // A line with colors of its own is compared with those stripped as well.
      expect(stripSgr(colorLine(line))).toEqual(bytes.includes(0x1b) ? stripSgr(plain) : plain);
    }
  }
});

test("the task's own bytes reach the terminal unchanged, and an escape in them is reset after them", () => {
  const invalid = new Uint8Array([0x41, 0xff, 0x42]);
  const out = colorLine({ timestamp: "", name: "t", stream: "stdout", bytes: invalid });
  expect(Buffer.from(out).subarray(-4)).toEqual(Buffer.from([0x41, 0xff, 0x42, 10]));
  const red = encoder.encode("\x1b[31mred, never closed");
  const colored = Buffer.from(colorLine({ timestamp: "", name: "t", stream: "stdout", bytes: red })).toString("latin1");
  expect(colored.endsWith("\x1b[31mred, never closed\x1b[0m\n")).toBe(true);
});

test("prefix colors: name in its palette color, error red, warn yellow, timestamp dim", () => {
  const named = NAME_PALETTE[nameColorIndex("x")]!("[x]");
  expect(coloredPrefix({ timestamp: "12:00:01 ", name: "x", stream: "error" })).toBe(`\x1b[2m12:00:01\x1b[22m ${named} \x1b[31merror\x1b[39m | `);
  expect(coloredPrefix({ timestamp: "", name: "x", stream: "warn" })).toBe(`${named} \x1b[33mwarn\x1b[39m | `);
  expect(coloredPrefix({ timestamp: "", name: "x", stream: "stdout" })).toBe(`${named} stdout | `);
  expect(named.startsWith("\x1b[") && named.endsWith("\x1b[39m")).toBe(true);
});

test("a name's color is fixed: the same in every build and version (a pinned table)", () => {
  // Changing the hash or the palette's order recolors every user's tasks: this table says so.
  const table: Record<string, number> = { toplevel: 7, build: 8, gen: 4, compile: 6, test: 8, lint: 8, a: 7, b: 4, c: 5, inner: 1, package: 0 };
  const actual = Object.fromEntries(Object.keys(table).map((n) => [n, nameColorIndex(n)]));
  expect(actual).toEqual(table);
});

test("names spread evenly over the palette, similar names included", () => {
  const counts = new Array(NAME_PALETTE.length).fill(0);
  const n = 9000;
  for (let i = 0; i < n; i++) counts[nameColorIndex(`task-${i}`)]++;
  const share = n / NAME_PALETTE.length;
  for (const c of counts) expect(Math.abs(c - share) / share).toBeLessThan(0.1);
  // Neighbouring names mostly differ: of task-0 .. task-99, at most a fifth share their successor's color.
  let same = 0;
  for (let i = 0; i < 99; i++) if (nameColorIndex(`task-${i}`) === nameColorIndex(`task-${i + 1}`)) same++;
  expect(same).toBeLessThan(20);
});

test("the palette has no red (errors), black, white or gray, and no color twice", () => {
  const opens = NAME_PALETTE.map((f) => /^\x1b\[(\d+)m/.exec(f("x"))![1]);
  expect(new Set(opens).size).toBe(opens.length);
  for (const code of ["30", "31", "37", "90", "91", "97"]) expect(opens).not.toContain(code);
});
