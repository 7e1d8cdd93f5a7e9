// Bash's `declare -p` / `declare -px` / `declare -fx` output, parsed (pure). The `taskrunner`
// function sends the caller's arguments, exported variables and exported functions in bash's
// own printing, so bash does the quoting, with builtins only, and no bytes are lost: values
// come as "..." (bash's double quoting) or $'...' (ANSI-C quoting, with octal escapes for bytes
// that are not printable or not valid in the locale). Values are bytes here.

/** One variable as `declare -p` prints it. */
export interface Declared {
  name: string;
  /** The attribute letters (`x` exported, `a` indexed array, `A` associative, `i`, `r`...). */
  flags: string;
  /** A scalar's bytes, an array's elements in index order, or null when declared without a value. */
  value: Uint8Array | Uint8Array[] | null;
}

/** An exported function as `declare -fx` prints it: its name and its text from `{` on. */
export interface DeclaredFunction {
  name: string;
  body: string;
}

/** Why a text is not `declare -p` output. */
export class DeclareSyntaxError extends Error {}

const ANSI_C_SIMPLE: Record<string, number> = { a: 7, b: 8, e: 27, E: 27, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, "'": 39, '"': 34, "?": 63 };

// The section is read as latin1, one character per byte, and taken apart with sticky regular
// expressions: the engine scans, not a loop in JavaScript (this runs for every nested call, on
// every variable of the caller's environment). Values stay latin1 "byte strings" until the end.
const HEAD = /declare -*([A-Za-z]*) ([^=\n]+)(=?)/y;
const DOUBLE = /"((?:[^"\\]|\\[\s\S])*)"/y;
const ANSI = /\$'((?:[^'\\]|\\[\s\S])*)'/y;
const SINGLE = /'([^']*)'/y;
const BARE = /(?:[^\s)"'$\\]|\\[\s\S]|\$(?!'))+/y;
const INDEX = / *\[[^\]]*\]=/y;
const DOUBLE_ESCAPE = /\\([$`"\\\n])/g;
const ANSI_ESCAPE = /\\(?:([abeEfnrtv\\'"?])|([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|([uU])([0-9A-Fa-f]{1,8})|c([\s\S])|([\s\S]))/g;

/** Parses `declare -p NAME...` / `declare -px` output into its variables, in order. */
export function parseDeclared(bytes: Uint8Array): Declared[] {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const out: Declared[] = [];
  let at = 0;
  while (at < s.length) {
    if (s.charCodeAt(at) === 10) {
      at++;
      continue;
    }
    HEAD.lastIndex = at;
    const head = HEAD.exec(s);
    if (head === null) fail(s, at, 'expected "declare -FLAGS NAME"');
    at = HEAD.lastIndex;
    let value: Declared["value"] = null;
    if (head[3] === "=") {
      if (s[at] === "(") {
        const items: Uint8Array[] = [];
        at++;
        for (;;) {
          while (s[at] === " ") at++;
          if (s[at] === ")") {
            at++;
            break;
          }
          INDEX.lastIndex = at;
          if (INDEX.exec(s) === null) fail(s, at, "expected [INDEX]= or )");
          const word = readWord(s, INDEX.lastIndex);
          items.push(Buffer.from(word.value, "latin1"));
          at = word.end;
        }
        value = items;
      } else {
        const word = readWord(s, at);
        value = Buffer.from(word.value, "latin1");
        at = word.end;
      }
    }
    if (at < s.length && s.charCodeAt(at) !== 10) fail(s, at, "expected the end of the line");
    out.push({ name: head[2]!, flags: head[1]!, value });
  }
  return out;
}

/** One word from `at`: "...", $'...', '...' and unquoted parts, up to a space, `)` or newline. */
function readWord(s: string, at: number): { value: string; end: number } {
  let value = "";
  for (;;) {
    const c = s[at];
    if (c === undefined || c === " " || c === "\n" || c === ")") return { value, end: at };
    const re = c === '"' ? DOUBLE : c === "'" ? SINGLE : c === "$" && s[at + 1] === "'" ? ANSI : BARE;
    re.lastIndex = at;
    const m = re.exec(s);
    if (m === null) fail(s, at, c === '"' || c === "'" || c === "$" ? "an unterminated quotation" : "a word");
    at = re.lastIndex;
    if (re === DOUBLE) value += m[1]!.includes("\\") ? m[1]!.replace(DOUBLE_ESCAPE, (_, e: string) => (e === "\n" ? "" : e)) : m[1]!;
    else if (re === ANSI) value += m[1]!.includes("\\") ? m[1]!.replace(ANSI_ESCAPE, ansiEscape) : m[1]!;
    else if (re === SINGLE) value += m[1]!;
    else value += m[0].replace(/\\([\s\S])/g, "$1");
  }
}

/** One ANSI-C escape as latin1 bytes: octal and hex are bytes, \u and \U characters in UTF-8. */
function ansiEscape(whole: string, simple?: string, octal?: string, hex?: string, u?: string, code?: string, control?: string, other?: string): string {
  if (simple !== undefined) return String.fromCharCode(ANSI_C_SIMPLE[simple]!);
  if (octal !== undefined) return String.fromCharCode(Number.parseInt(octal, 8) & 0xff);
  if (hex !== undefined) return String.fromCharCode(Number.parseInt(hex, 16));
  if (u !== undefined && code !== undefined) {
    const digits = code.slice(0, u === "u" ? 4 : 8);
    const cp = Math.min(Number.parseInt(digits, 16), 0x10ffff);
    return Buffer.from(String.fromCodePoint(cp), "utf8").toString("latin1") + code.slice(digits.length);
  }
  if (control !== undefined) return String.fromCharCode(control.charCodeAt(0) & 0x1f);
  return whole.slice(0, 1) + (other ?? "");
}

function fail(s: string, at: number, what: string): never {
  throw new DeclareSyntaxError(`${what} at byte ${at} (near ${JSON.stringify(s.slice(Math.max(0, at - 20), at + 20))})`);
}

/**
 * Parses `declare -fx` output: for each exported function, `NAME () ` on a line, its text from
 * `{` to the `}` line, then `declare -fx NAME`. `names` is not needed: the closing
 * `}\ndeclare -fx NAME\n` of a function is searched with the NAME its header gave, so a heredoc
 * line in a body that looks like a separator does not cut it short.
 */
export function parseFunctions(text: string): DeclaredFunction[] {
  const out: DeclaredFunction[] = [];
  let at = 0;
  while (at < text.length) {
    const header = /^(.+?) \(\) ?\n/.exec(text.slice(at));
    if (header === null) throw new DeclareSyntaxError(`expected a function header at ${at}: ${JSON.stringify(text.slice(at, at + 40))}`);
    const name = header[1]!;
    const bodyStart = at + header[0].length;
    const end = `\n}\ndeclare -fx ${name}\n`;
    const close = text.indexOf(end, bodyStart);
    if (close < 0) throw new DeclareSyntaxError(`function ${JSON.stringify(name)} has no end`);
    out.push({ name, body: text.slice(bodyStart, close + 2) });
    at = close + end.length;
  }
  return out;
}
