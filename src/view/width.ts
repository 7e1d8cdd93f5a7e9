// Display width of text on a terminal, in cells, and truncation to a width. The status area
// must never wrap: a wrapped line takes two rows, and erasing the area moves the cursor up by
// the number of rows it drew, so one wrap leaves a stale row behind on every redraw.
//
// Wide and fullwidth characters come from Unicode's East Asian Width data (get-east-asian-width,
// the table string-width uses); zero-width ones are recognised by their general category. Where
// terminals disagree, this errs on the wide side (a cut a cell early is harmless, a wrap is not):
// an emoji sequence joined by U+200D counts each emoji, as terminals without grapheme support
// draw it. Ambiguous-width characters count 1, as terminals do outside CJK locales; the view's
// own texts use none, so only task names could contain one.
import { eastAsianWidth } from "get-east-asian-width";

// Marks that combine with the previous character (Mn, Me), format characters (Cf: zero width
// joiner, soft hyphen, bidi marks), and the Hangul medial vowels and final consonants that
// join a leading consonant into one syllable cell.
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|\p{Cf}|[\u1160-\u11FF\uD7B0-\uD7FF])$/u;

/** Cells one code point takes: 0 (combining, format, control), 1, or 2 (wide, fullwidth). */
export function codePointWidth(codePoint: number): 0 | 1 | 2 {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (codePoint < 0x300) return 1; // Latin: the common case, no table look-up
  if (ZERO_WIDTH.test(String.fromCodePoint(codePoint))) return 0;
  return eastAsianWidth(codePoint);
}

/**
 * Length of the escape sequence starting at `i` (text[i] is ESC): CSI (`ESC [ ... final`),
 * OSC (`ESC ] ... BEL` or `ESC ] ... ESC \`), or a two-character escape. Unterminated
 * sequences run to the end of the text.
 */
function escapeLength(text: string, i: number): number {
  const kind = text[i + 1];
  if (kind === "[") {
    let j = i + 2;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) return j + 1 - i;
      j++;
    }
    return text.length - i;
  }
  if (kind === "]") {
    for (let j = i + 2; j < text.length; j++) {
      if (text[j] === "\x07") return j + 1 - i;
      if (text[j] === "\x1b" && text[j + 1] === "\\") return j + 2 - i;
    }
    return text.length - i;
  }
  return Math.min(2, text.length - i);
}

/** Cells the text takes on a terminal: escape sequences count 0, wide characters 2. */
export function displayWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; ) {
    if (text.charCodeAt(i) === 0x1b) {
      i += escapeLength(text, i);
      continue;
    }
    const cp = text.codePointAt(i)!;
    width += codePointWidth(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return width;
}

/**
 * The text cut to at most `columns` cells. Escape sequences are all kept, also those after the
 * cut, so a color opened before the cut is still closed; a wide character that would straddle
 * the edge is dropped whole, and so are the marks that combined with a dropped character.
 */
export function truncateToWidth(text: string, columns: number): string {
  let width = 0;
  let out = "";
  let cut = false;
  for (let i = 0; i < text.length; ) {
    if (text.charCodeAt(i) === 0x1b) {
      const n = escapeLength(text, i);
      out += text.slice(i, i + n);
      i += n;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    const w = codePointWidth(cp);
    if (!cut && width + w > columns) cut = true;
    if (!cut) {
      out += text.slice(i, i + size);
      width += w;
    }
    i += size;
  }
  return out;
}
