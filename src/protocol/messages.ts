// The child <-> runner request protocol (SPEC §5), pure: one request is one line holding a JSON
// array of strings; replies are one line of shell code that the `snapshot` function evals.
import { isUtf8 } from "node:buffer";

/**
 * One decoded request line. Words are bytes, not strings: a `--raw` value may be binary, and two
 * different binary values must never hash the same (a lossy UTF-8 decode would merge them).
 */
export type Request =
  /** `["snapshot", ARGS...]`: decide whether the task runs; needs a reply. */
  | { kind: "snapshot"; args: Buffer[] }
  /** `["debug", WORDS...]`: a debug line for this task's log; gets no reply. */
  | { kind: "debug"; words: Buffer[] }
  /** A well-formed array of strings with an unknown command; `json` is the trimmed line text. */
  | { kind: "unknown"; json: string }
  /** Anything else: not JSON, not an array, an empty array, a non-string element. */
  | { kind: "invalid"; line: string; reason: string };

/** A request that could not be parsed. */
export type InvalidRequest = Extract<Request, { kind: "invalid" }>;
/** A parsed request whose command is unknown. */
export type UnknownRequest = Extract<Request, { kind: "unknown" }>;

/** Reply: carry on running the task. */
export const REPLY_CONTINUE = "true\n";
/** Reply: nothing to do, the task ends here successfully. */
export const REPLY_SKIP = "exit 0\n";
/** Reply: error, the task ends with exit code 1. */
export const REPLY_ERROR = "exit 1\n";

/**
 * Decodes one request line (without its `\n`); junk never throws, it becomes `invalid`.
 *
 * The bash function passes bytes >= 0x80 through raw, so an argument that is not valid UTF-8
 * makes a line that is not valid UTF-8, which JSON.parse cannot take as is. Such a line is
 * decoded Python-"surrogateescape"-style: each raw byte >= 0x80 becomes the lone surrogate
 * U+DC80..U+DCFF before parsing and turns back into that very byte afterwards, while characters
 * written as `\u` escapes are encoded as UTF-8, exactly as in a valid UTF-8 line. (Plain latin1
 * would make `\u00e9` one byte in such a line but two bytes in a valid one.)
 */
export function decodeRequest(line: Uint8Array): Request {
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  const utf8 = isUtf8(bytes);
  let value: unknown;
  try {
    value = JSON.parse(utf8 ? bytes.toString("utf8") : escapeRawBytes(bytes));
  } catch (e) {
    return invalid(bytes, `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(value)) return invalid(bytes, "not a JSON array");
  if (value.length === 0) return invalid(bytes, "empty array, expected a command");
  const words: Buffer[] = [];
  for (let i = 0; i < value.length; i++) {
    const word: unknown = value[i];
    if (typeof word !== "string") return invalid(bytes, `element ${i} is not a string: ${JSON.stringify(word)}`);
    words.push(utf8 ? Buffer.from(word, "utf8") : unescapeRawBytes(word));
  }
  switch (value[0]) {
    case "snapshot":
      return { kind: "snapshot", args: words.slice(1) };
    case "debug":
      return { kind: "debug", words: words.slice(1) };
    default:
      return { kind: "unknown", json: bytes.toString("utf8").trim() };
  }
}

function invalid(bytes: Buffer, reason: string): InvalidRequest {
  // Lossy on purpose: this text is only shown in an error message.
  return { kind: "invalid", line: bytes.toString("utf8"), reason };
}

const SHORT_ESCAPES: Record<number, string> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };
// The escape of each byte that needs one; null means "copy the byte".
const ESCAPES: (Uint8Array | null)[] = Array.from({ length: 256 }, (_, b) => {
  const text = SHORT_ESCAPES[b] ?? (b < 0x20 ? `\\u${b.toString(16).padStart(4, "0")}` : null);
  return text === null ? null : Buffer.from(text, "latin1");
});

/**
 * Encodes words as one request line ending in `\n`, byte-identical to what the `snapshot` bash
 * function writes for the same argument bytes (strings are taken as their UTF-8 bytes): `\\`,
 * `\"`, the short escapes `\b \t \n \f \r`, `\u00xx` (lowercase) for other bytes below 0x20,
 * every other byte raw, including DEL and bytes >= 0x80. For valid UTF-8 this equals
 * `JSON.stringify(words) + "\n"`.
 */
export function encodeRequest(words: (string | Uint8Array)[]): Uint8Array {
  const parts = words.map((w) => (typeof w === "string" ? Buffer.from(w, "utf8") : w));
  // Two passes (measure, then fill) so a large argument costs one exact allocation.
  let size = 3 + Math.max(0, parts.length - 1);
  for (const part of parts) {
    size += 2;
    for (const b of part) size += ESCAPES[b]?.length ?? 1;
  }
  const out = new Uint8Array(size);
  let at = 0;
  out[at++] = 0x5b; // [
  parts.forEach((part, i) => {
    if (i > 0) out[at++] = 0x2c; // ,
    out[at++] = 0x22; // "
    for (const b of part) {
      const escape = ESCAPES[b];
      if (escape == null) out[at++] = b;
      else {
        out.set(escape, at);
        at += escape.length;
      }
    }
    out[at++] = 0x22;
  });
  out[at++] = 0x5d; // ]
  out[at++] = 0x0a;
  return out;
}

/** The error line for an unparsable request: the line quoted as JSON, so it stays one line. */
export function invalidRequestMessage(r: InvalidRequest): string {
  return `Invalid command pipe request: ${JSON.stringify(r.line)}`;
}

/** The error line for a well-formed request with an unknown command. */
export function unknownCommandMessage(r: UnknownRequest): string {
  return `Unknown command in command pipe: ${r.json}`;
}

// Raw bytes >= 0x80 of a non-UTF-8 line are carried through JSON.parse as lone surrogates.
const RAW_BASE = 0xdc00;
const CHUNK = 8192; // keeps String.fromCharCode's argument list well under engine limits

function escapeRawBytes(bytes: Uint8Array): string {
  let text = "";
  const codes = new Uint16Array(Math.min(CHUNK, bytes.length));
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      codes[i - start] = b < 0x80 ? b : RAW_BASE + b;
    }
    text += String.fromCharCode(...codes.subarray(0, end - start));
  }
  return text;
}

function unescapeRawBytes(word: string): Buffer {
  const out = Buffer.allocUnsafe(word.length * 3);
  let at = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
    } else if (c >= RAW_BASE + 0x80 && c <= RAW_BASE + 0xff) {
      out[at++] = c - RAW_BASE;
    } else {
      // A character from a \u escape (a pair of them for astral ones): UTF-8, like the valid path.
      const next = word.charCodeAt(i + 1);
      const pair = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
      at += out.write(pair ? word.slice(i, i + 2) : word[i]!, at, "utf8");
      if (pair) i++;
    }
  }
  return Buffer.from(out.subarray(0, at));
}
