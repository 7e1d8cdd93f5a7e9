// Display width in terminal cells and truncation: the status area must never wrap.
import { test, expect } from "bun:test";
import { displayWidth, truncateToWidth, codePointWidth } from "../../src/view/width.ts";
import { renderScreen } from "../helpers/screen.ts";

const widthCases: [string, string, number][] = [
  ["empty", "", 0],
  ["ASCII", "gen 3.2s", 8],
  ["CJK ideographs are 2 each", "漢字", 4],
  ["Hangul syllables are 2", "한국", 4],
  ["fullwidth forms are 2", "ＡＢ", 4],
  ["a combining accent is 0", "e\u0301", 1],
  ["a variation selector is 0", "\u2764\ufe0f", 1],
  ["an emoji is 2", "🚀", 2],
  ["a zero width joiner is 0, each joined emoji counts", "👩\u200d💻", 4],
  ["SGR colors are 0", "\x1b[36mgen\x1b[39m", 3],
  ["other CSI sequences are 0", "\x1b[2K\x1b[10A", 0],
  ["OSC (hyperlink) is 0", "\x1b]8;;http://x\x07link\x1b]8;;\x07", 4],
  ["control characters are 0", "a\tb", 2],
  ["braille spinner is 1", "⠋", 1],
  ["Latin-1 and accents", "café", 4],
];

test.each(widthCases)("width: %s", (_, text, width) => {
  expect(displayWidth(text)).toBe(width);
});

test("code point widths at the edges of the tables", () => {
  expect([0x1f, 0x20, 0x7e, 0x7f, 0x9f, 0xa0, 0x2ff, 0x300, 0x1100, 0x1160, 0x3000, 0xff01, 0xff61].map(codePointWidth)).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 2, 0, 2, 2, 1]);
});

const truncateCases: [string, string, number, string][] = [
  ["short text is kept", "gen", 10, "gen"],
  ["cut at the width", "abcdef", 4, "abcd"],
  ["width 0", "abc", 0, ""],
  ["a wide character that would straddle the edge is dropped", "ab漢字", 3, "ab"],
  ["wide characters that fit", "漢字x", 4, "漢字"],
  ["escapes kept, also after the cut, so colors close", "\x1b[36mabcdef\x1b[39m!", 3, "\x1b[36mabc\x1b[39m"],
  ["a combining mark stays with its kept letter", "e\u0301f", 1, "e\u0301"],
  ["a combining mark goes with its dropped letter", "ae\u0301", 1, "a"],
  ["an emoji at the edge", "a🚀", 2, "a"],
];

test.each(truncateCases)("truncate: %s", (_, text, columns, expected) => {
  expect(truncateToWidth(text, columns)).toBe(expected);
  expect(displayWidth(truncateToWidth(text, columns))).toBeLessThanOrEqual(columns);
});

test("what the width function counts, xterm draws in as many cells: a row filled to the width", async () => {
  for (const text of ["漢字かな交じり文です。", "e\u0301tude \x1b[31mred\x1b[39m and 한국어", "ab⠋ ＡＢ"]) {
    const line = truncateToWidth(text, 12);
    const screen = await renderScreen(`${line}\r\n`, { cols: displayWidth(line), rows: 3 });
    expect(screen.wrappedRows()).toEqual([]);
    expect(screen.lines()).toEqual([line.replace(/\x1b\[[0-9;]*m/g, "")]);
    // And the row is full: xterm counts no fewer cells either.
    expect(screen.cell(displayWidth(line) - 1, 0).char).not.toBe(" ");
    screen.dispose();
  }
});

test("where terminals disagree (emoji: 1 cell in xterm.js's default Unicode 6 table), the count errs wide: no wrap", async () => {
  const line = "abc 🚀 👩\u200d💻";
  const screen = await renderScreen(`${line}\r\n`, { cols: displayWidth(line), rows: 3 });
  expect(screen.wrappedRows()).toEqual([]);
  expect(screen.cursor()).toEqual({ x: 0, y: 1 });
  screen.dispose();
});
