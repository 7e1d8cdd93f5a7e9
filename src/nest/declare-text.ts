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
const DOUBLE_QUOTE_ESCAPED = new Set([0x24, 0x60, 0x22, 0x5c]); // $ ` " \

/** A reader over the bytes of one section. */
class Cursor {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.at >= this.bytes.length;
  }
  peek(offset = 0): number {
    return this.bytes[this.at + offset] ?? -1;
  }
  fail(what: string): never {
    const context = Buffer.from(this.bytes.subarray(Math.max(0, this.at - 20), this.at + 20)).toString("latin1");
    throw new DeclareSyntaxError(`${what} at byte ${this.at} (near ${JSON.stringify(context)})`);
  }
  expect(text: string): void {
    for (let i = 0; i < text.length; i++) if (this.peek(i) !== text.charCodeAt(i)) this.fail(`expected ${JSON.stringify(text)}`);
    this.at += text.length;
  }
  /** Bytes up to (not including) the first byte in `stops`, or to the end. */
  until(stops: string): string {
    const start = this.at;
    while (!this.done && !stops.includes(String.fromCharCode(this.peek()))) this.at++;
    return Buffer.from(this.bytes.subarray(start, this.at)).toString("latin1");
  }
}

/** Parses `declare -p NAME...` / `declare -px` output into its variables, in order. */
export function parseDeclared(bytes: Uint8Array): Declared[] {
  const c = new Cursor(bytes);
  const out: Declared[] = [];
  while (!c.done) {
    if (c.peek() === 10) {
      c.at++;
      continue;
    }
    c.expect("declare ");
    const flags = c.until(" ").replace(/^-+/, "");
    c.expect(" ");
    const name = c.until("=\n");
    if (name === "") c.fail("expected a variable name");
    let value: Declared["value"] = null;
    if (c.peek() === 0x3d) {
      c.at++;
      value = c.peek() === 0x28 ? readArray(c) : readValue(c);
    }
    if (!c.done) c.expect("\n");
    out.push({ name, flags, value });
  }
  return out;
}

/** `([0]="a" [1]=$'b\n' )`: the elements in the order printed (bash prints them by index). */
function readArray(c: Cursor): Uint8Array[] {
  c.expect("(");
  const items: Uint8Array[] = [];
  for (;;) {
    while (c.peek() === 0x20) c.at++;
    if (c.peek() === 0x29) {
      c.at++;
      return items;
    }
    c.expect("[");
    c.until("]");
    c.expect("]=");
    items.push(readValue(c));
  }
}

/** One word: a sequence of "...", $'...', '...' and unquoted bytes up to a space, `)` or newline. */
function readValue(c: Cursor): Uint8Array {
  const out: number[] = [];
  for (;;) {
    const b = c.peek();
    if (b === -1 || b === 0x20 || b === 0x0a || b === 0x29) return Uint8Array.from(out);
    if (b === 0x22) readDoubleQuoted(c, out);
    else if (b === 0x24 && c.peek(1) === 0x27) readAnsiC(c, out);
    else if (b === 0x27) {
      c.at++;
      while (c.peek() !== 0x27) {
        if (c.done) c.fail("unterminated '...'");
        out.push(c.peek());
        c.at++;
      }
      c.at++;
    } else if (b === 0x5c) {
      c.at++;
      if (c.done) c.fail("a backslash at the end");
      out.push(c.peek());
      c.at++;
    } else {
      out.push(b);
      c.at++;
    }
  }
}

function readDoubleQuoted(c: Cursor, out: number[]): void {
  c.at++;
  for (;;) {
    if (c.done) c.fail('unterminated "..."');
    const b = c.peek();
    if (b === 0x22) {
      c.at++;
      return;
    }
    if (b === 0x5c && (DOUBLE_QUOTE_ESCAPED.has(c.peek(1)) || c.peek(1) === 0x0a)) {
      // \<newline> is a line continuation: both go.
      if (c.peek(1) !== 0x0a) out.push(c.peek(1));
      c.at += 2;
      continue;
    }
    out.push(b);
    c.at++;
  }
}

function readAnsiC(c: Cursor, out: number[]): void {
  c.at += 2;
  for (;;) {
    if (c.done) c.fail("unterminated $'...'");
    const b = c.peek();
    if (b === 0x27) {
      c.at++;
      return;
    }
    c.at++;
    if (b !== 0x5c) {
      out.push(b);
      continue;
    }
    const e = String.fromCharCode(c.peek());
    c.at++;
    const simple = ANSI_C_SIMPLE[e];
    if (simple !== undefined) out.push(simple);
    else if (e >= "0" && e <= "7") out.push(digits(c, e, 8, 2) & 0xff);
    else if (e === "x") out.push(digits(c, "", 16, 2));
    else if (e === "u" || e === "U") out.push(...Buffer.from(String.fromCodePoint(Math.min(digits(c, "", 16, e === "u" ? 4 : 8), 0x10ffff)), "utf8"));
    else if (e === "c") {
      out.push(c.peek() & 0x1f);
      c.at++;
    } else out.push(0x5c, e.charCodeAt(0));
  }
}

/** Up to `max` more digits of `radix` after `first`; the number they make. */
function digits(c: Cursor, first: string, radix: number, max: number): number {
  let text = first;
  for (let i = 0; i < max; i++) {
    const ch = String.fromCharCode(c.peek());
    if (Number.isNaN(Number.parseInt(ch, radix))) break;
    text += ch;
    c.at++;
  }
  if (text === "") c.fail("an escape without digits");
  return Number.parseInt(text, radix);
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
