// The first `snapshot` call of a task, read from its command before its bash starts (run.ts).
// Most tasks are `bash SCRIPT ARGS...` or `bash -c STRING ...` whose first command is `snapshot`;
// when the inputs are unchanged, all their bash does is start, call `snapshot` and exit 0 on its
// reply. If nothing bash does before that call can be seen (no output, no effect, no failure),
// the runner can make the same decision with the same arguments without starting bash, and start
// it only when the reply lets the task go on (see early-snapshot.ts).
//
// This reads only what it can be sure of, and says "no" to anything else (the task then runs as
// always): a prefix of comment lines, blank lines and `set` options; then `snapshot` with words
// of literal text and quoted positional parameters, on a line of its own or followed by simple
// commands whose syntax cannot fail. Why each rule:
// - bash parses a whole line (a list: `a; b && c`) before running any of it, so a syntax error
//   after `snapshot` on its line would stop bash before `snapshot`; the rest of that line must
//   be plain commands that always parse. Later lines are read only after `snapshot` returned.
// - globs, braces, tildes, unquoted expansions, `$0`, variables, substitutions, backslashes,
//   here-documents, pipes and `&` (the call would run in a subshell or in the background) all
//   depend on more than the text, or change what runs: not read.
// - bytes outside printable ASCII: in a multibyte locale they can change how bash splits the
//   line. A comment line may hold any byte but NUL (it ends at the newline in every encoding).
// - `set -u` with a missing positional parameter is an error bash prints: not read.

/** A bash command line, when it is one this reads: a script file or a `-c` string, and the positional parameters. */
export type BashForm = { kind: "script"; path: string; positional: string[] } | { kind: "string"; text: string; positional: string[] };

/** `bash SCRIPT ARGS...` or `bash -c STRING [NAME ARGS...]` (no other option), or null. */
export function bashForm(command: string[]): BashForm | null {
  const [program, first, ...rest] = command;
  if (program === undefined || first === undefined) return null;
  if (program !== "bash" && !program.endsWith("/bash")) return null;
  if (first === "-c") {
    const [text, , ...positional] = rest;
    return text === undefined ? null : { kind: "string", text, positional };
  }
  if (first === "" || first.startsWith("-") || first.startsWith("+")) return null;
  return { kind: "script", path: first, positional: rest };
}

/**
 * Environment variables that change what a starting bash does or prints (startup files, shell
 * options, xtrace, compatibility levels, `read` timeouts, function limits, word splitting; the
 * dynamic loader's and the C library's, which may preload code or print diagnostics), exported
 * functions other than taskrunner's own (a malformed one is an error bash prints), and locale
 * variables, whose values must name installed locales (an unknown LC_ALL is a warning bash
 * prints at start-up). Returns why the environment rules the early decision out, or null;
 * `locales` gets the locale values to check (early-snapshot.ts asks the C library).
 */
export function environmentBlocks(env: Record<string, string | undefined>, locales: string[]): string | null {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SHELL_VARIABLES.has(name) || name.startsWith("LD_")) return `${name} is set`;
    if (name.startsWith("BASH_FUNC_") && !OWN_FUNCTIONS.has(name)) return `an exported function (${name})`;
    if ((name === "LANG" || name.startsWith("LC_")) && value !== "" && value !== "C" && value !== "POSIX") locales.push(value);
  }
  const level = env.SHLVL;
  // bash warns when the level it would set reaches 1000.
  if (level !== undefined && level !== "" && (!/^[0-9]{1,3}$/.test(level) || Number(level) >= 999)) return "SHLVL is large";
  return null;
}

const SHELL_VARIABLES = new Set(["BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT", "POSIX_PEDANTIC", "BASH_COMPAT", "BASH_XTRACEFD", "PS4", "TMOUT", "FUNCNEST", "IFS", "GLIBC_TUNABLES"]);
const OWN_FUNCTIONS = new Set(["BASH_FUNC_snapshot%%", "BASH_FUNC_taskrunner%%"]);

/**
 * The arguments of the first `snapshot` call of `text` run with these positional parameters, if
 * it is certain to be the first thing the text does (see the top of this file), or null.
 */
export function firstSnapshot(text: string, positional: string[]): string[] | null {
  const reader = new LineReader(text);
  let nounset = false;
  for (;;) {
    const line = reader.line();
    if (line === null) return null;
    if (line === "skip") continue;
    let i = 0;
    // Leading `set` commands, each ended by `;`.
    while (i < line.length && isCommand(line[i]!, "set")) {
      const set = readSet(line[i]!);
      if (set === null) return null;
      nounset ||= set.nounset;
      if (line[i]!.end === ";") i++;
      else if (line[i]!.end === null) {
        i++;
        break;
      } else return null;
    }
    if (i === line.length) continue;
    const call = line[i]!;
    if (!isCommand(call, "snapshot") || call.redirected) return null;
    // After the call: end of line, or `;`/`&&`/`||` and plain commands (checked by the reader).
    const args: string[] = [];
    for (const word of call.words.slice(1)) {
      const value = expand(word, positional, nounset);
      if (value === null) return null;
      args.push(value);
    }
    return args;
  }
}

/** A word as read: its parts, each literal text or a positional parameter, or an expansion only its syntax was checked of. */
interface Word {
  parts: ({ literal: string } | { positional: number } | { other: true })[];
  /** Plain unquoted text only (a command name, a `set` option). */
  plain: string | null;
}

/** A simple command: its words, whether it has redirections, and the operator after it (null: end of line). */
interface Command {
  words: Word[];
  redirected: boolean;
  end: ";" | "&&" | "||" | null;
}

function isCommand(c: Command, name: string): boolean {
  return c.words[0]?.plain === name;
}

/** `set` with options only: -e, -u, -o errexit|nounset|pipefail (combined as bash allows). */
function readSet(c: Command): { nounset: boolean } | null {
  if (c.redirected || c.words.length < 2) return null;
  let nounset = false;
  const words = c.words.slice(1).map((w) => w.plain);
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    const m = w === null ? null : /^-([eu]*)(o?)$/.exec(w!);
    if (m === null || (m[1] === "" && m[2] === "")) return null;
    if (m[1]!.includes("u")) nounset = true;
    if (m[2] === "o") {
      const option = words[++k];
      if (option === "nounset") nounset = true;
      else if (option !== "errexit" && option !== "pipefail") return null;
    }
  }
  return { nounset };
}

function expand(word: Word, positional: string[], nounset: boolean): string | null {
  let value = "";
  for (const part of word.parts) {
    if ("literal" in part) value += part.literal;
    else if ("positional" in part) {
      const v = positional[part.positional - 1];
      if (v === undefined && nounset) return null;
      value += v ?? "";
    } else return null;
  }
  return value;
}

// Characters of unquoted words: no glob, brace, tilde, comment, history or quoting meaning.
const PLAIN = /[A-Za-z0-9_./:@%+=,-]/;
// Inside quotes: printable ASCII but the quote, and for double quotes `\`, `` ` ``, `$` and `!`.
const PRINTABLE = /[\x20-\x7e\t]/;
const RESERVED = new Set(["if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do", "done", "in", "function", "time", "coproc"]);

/** Reads the text line by line: a line is "skip" (blank or comment), a list of commands, or null (the end, or anything not read). */
class LineReader {
  private at = 0;
  constructor(private readonly text: string) {}

  line(): Command[] | "skip" | null {
    const t = this.text;
    this.blanks();
    if (this.at >= t.length) return null;
    if (t[this.at] === "\n") {
      this.at++;
      return "skip";
    }
    if (t[this.at] === "#") {
      const end = t.indexOf("\n", this.at);
      const comment = t.slice(this.at, end === -1 ? t.length : end);
      if (comment.includes("\0")) return null;
      this.at = end === -1 ? t.length : end + 1;
      return "skip";
    }
    const commands: Command[] = [];
    for (;;) {
      const c = this.command();
      if (c === null) return null;
      commands.push(c);
      if (c.end === null) return commands;
      this.blanks();
      if (this.at >= t.length || t[this.at] === "\n") {
        // `a &&` or `a ||` at the end of a line goes on to the next: not read.
        if (c.end !== ";") return null;
        c.end = null;
        this.at++;
        return commands;
      }
    }
  }

  private blanks(): void {
    while (this.text[this.at] === " " || this.text[this.at] === "\t") this.at++;
  }

  /** One simple command and the operator ending it (consumed), or null. */
  private command(): Command | null {
    const t = this.text;
    const words: Word[] = [];
    let redirected = false;
    for (;;) {
      this.blanks();
      const c = t[this.at];
      if (c === undefined || c === "\n") {
        if (c === "\n") this.at++;
        return words.length === 0 && !redirected ? null : { words, redirected, end: null };
      }
      if (c === ";" || c === "&" || c === "|") {
        const two = t.slice(this.at, this.at + 2);
        const end = two === "&&" || two === "||" ? two : c === ";" && two !== ";;" ? ";" : null;
        if (end === null || (words.length === 0 && !redirected)) return null;
        this.at += end.length;
        return { words, redirected, end };
      }
      // Allowed after the call only: the call itself and `set` must have none (firstSnapshot, readSet).
      const redirection = this.redirection();
      if (redirection === null) return null;
      if (redirection) {
        redirected = true;
        continue;
      }
      const word = this.word();
      if (word === null) return null;
      if (words.length === 0 && word.plain !== null && RESERVED.has(word.plain)) return null;
      words.push(word);
    }
  }

  /**
   * A redirection whose syntax cannot fail (`>f`, `2>>f`, `<f`, `>&2`, `2>&1`, `>&-`), consumed:
   * true; false if none is here; null for one not read.
   */
  private redirection(): boolean | null {
    const m = /^([0-9]*)(>>|>&|<&|>|<)/.exec(this.text.slice(this.at, this.at + 12));
    if (m === null) return false;
    const after = this.text[this.at + m[0].length];
    // `<<`, `<<<`, `<>`, `>|`, `<(`, `>(` and the like.
    if (after === "<" || after === ">" || after === "|" || after === "(") return false;
    this.at += m[0].length;
    if (m[2] === ">&" || m[2] === "<&") {
      const target = /^([0-9]+|-)(?=[ \t\n;&|]|$)/.exec(this.text.slice(this.at));
      if (target === null) return null;
      this.at += target[0].length;
      return true;
    }
    this.blanks();
    return this.word() === null ? null : true;
  }

  /** A word of plain characters, quoted strings and parameter expansions, or null. */
  private word(): Word | null {
    const t = this.text;
    const parts: Word["parts"] = [];
    let plain = "";
    // Any quoting or expansion: the word is no plain text (a command name, a `set` option).
    let special = false;
    const start = this.at;
    while (this.at < t.length) {
      const c = t[this.at]!;
      if (PLAIN.test(c)) {
        parts.push({ literal: c });
        plain += c;
        this.at++;
      } else if (c === "'") {
        const end = t.indexOf("'", this.at + 1);
        if (end === -1) return null;
        const s = t.slice(this.at + 1, end);
        if (![...s].every((x) => PRINTABLE.test(x))) return null;
        parts.push({ literal: s });
        special = true;
        this.at = end + 1;
      } else if (c === '"') {
        this.at++;
        for (;;) {
          const d = t[this.at];
          if (d === undefined) return null;
          if (d === '"') break;
          if (d === "$") {
            const p = this.parameter();
            if (p === null) return null;
            parts.push(p);
          } else if (PRINTABLE.test(d) && d !== "\\" && d !== "`" && d !== "!") {
            parts.push({ literal: d });
            this.at++;
          } else return null;
        }
        special = true;
        this.at++;
      } else if (c === "$") {
        // Unquoted: split and globbed when run; only its syntax is checked (it is no `snapshot` argument).
        const p = this.parameter();
        if (p === null) return null;
        parts.push({ other: true });
        special = true;
      } else if (c === " " || c === "\t" || c === "\n" || c === ";" || c === "&" || c === "|" || c === "<" || c === ">") {
        break;
      } else return null;
    }
    if (this.at === start) return null;
    return { parts, plain: special ? null : plain };
  }

  /** `$N`, `${N}` (N > 0), or a variable or special parameter (syntax only), consumed; null for anything else. */
  private parameter(): Word["parts"][number] | null {
    const rest = this.text.slice(this.at, this.at + 64);
    let m = /^\$([1-9])/.exec(rest) ?? /^\$\{([1-9][0-9]*)\}/.exec(rest);
    if (m !== null) {
      this.at += m[0].length;
      return { positional: Number(m[1]) };
    }
    m = /^\$([A-Za-z_][A-Za-z0-9_]*|[@*#?$!-])/.exec(rest) ?? /^\$\{([A-Za-z_][A-Za-z0-9_]*|[@*#?$!-])\}/.exec(rest);
    if (m === null) return null;
    this.at += m[0].length;
    return { other: true };
  }
}
