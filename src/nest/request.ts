// A nested call's request (pure): what the `taskrunner` bash function sends (function.ts), as
// the runner gets it: the secret line, then three NUL-terminated sections in bash's `declare`
// printing (declare-text.ts).
import { type Result, ok, err } from "../result.ts";
import { DeclareSyntaxError, parseDeclared, parseFunctions } from "./declare-text.ts";

/** What a caller asks for: its arguments, its process, its exported environment. */
export interface NestedCall {
  /** The arguments after `taskrunner`, as the executable would get them. */
  argv: string[];
  /** The calling bash ($BASHPID): its working directory and descriptors are the call's. */
  pid: number;
  /** The caller's exported variables and functions (`BASH_FUNC_name%%`), as a child would get them; maybe shared (EnvCache). */
  env: Readonly<Record<string, string>>;
}

// Bash decodes nothing; the executable's runtime decodes argv and the environment as UTF-8 with
// a replacement character for each bad byte (README "Known limitations"): so does this.
const utf8 = new TextDecoder("utf-8");

/**
 * Environments parsed before, by the bytes they were parsed from: a caller's exported variables
 * and functions rarely change between its calls (a loop calling `taskrunner`), and parsing them
 * is most of the work of a request. The environments handed out are shared: never change one.
 */
export class EnvCache {
  private entries: { bytes: Uint8Array; env: Readonly<Record<string, string>> }[] = [];

  /** At most `size` environments, each of at most `maxBytes` (a request may hold 64 MiB). */
  constructor(
    private readonly size = 8,
    private readonly maxBytes = 1024 * 1024,
  ) {}

  /** The environment parsed from exactly these bytes, or undefined. */
  get(bytes: Uint8Array): Readonly<Record<string, string>> | undefined {
    const at = this.entries.findIndex((e) => e.bytes.length === bytes.length && Buffer.compare(e.bytes, bytes) === 0);
    if (at < 0) return undefined;
    const [hit] = this.entries.splice(at, 1);
    this.entries.unshift(hit!);
    return hit!.env;
  }

  set(bytes: Uint8Array, env: Readonly<Record<string, string>>): void {
    if (bytes.length > this.maxBytes) return;
    this.entries.unshift({ bytes: bytes.slice(), env });
    this.entries.length = Math.min(this.entries.length, this.size);
  }
}

/**
 * Parses a request's first section, which the server has before the rest (server.ts `early`):
 * the `declare -p` of the arguments and of the caller's pid. (The caller's umask is read in
 * /proc with the rest of what its children inherit: inheritance.ts.)
 */
export function parseHead(section: Uint8Array): Result<Omit<NestedCall, "env">> {
  try {
    const own = new Map(parseDeclared(section).map((d) => [d.name, d.value]));
    const argv = own.get("__tr_argv");
    const pid = own.get("__tr_pid");
    if (!Array.isArray(argv)) return err("no argument array in the request");
    if (!(pid instanceof Uint8Array) || !/^\d+$/.test(utf8.decode(pid))) return err("no caller pid in the request");
    return ok({ argv: argv.map((a) => utf8.decode(a)), pid: Number(utf8.decode(pid)) });
  } catch (e) {
    if (e instanceof DeclareSyntaxError) return err(`unreadable request: ${e.message}`);
    throw e;
  }
}

/**
 * Parses a whole request (as `requestLength` delimits it) after its secret line. With a cache,
 * the environment is taken from it when the caller's variables and functions are the same
 * bytes as in a call parsed before (then `env` is shared: copy it to change it).
 */
export function parseCall(request: Uint8Array, cache?: EnvCache): Result<NestedCall> {
  const nl = request.indexOf(10);
  const parts: Uint8Array[] = [];
  for (let start = nl + 1, end = request.indexOf(0, start); end >= 0; start = end + 1, end = request.indexOf(0, start)) {
    parts.push(request.subarray(start, end));
  }
  const [section, variables, functions] = parts;
  if (nl < 0 || section === undefined || variables === undefined || functions === undefined) return err("a request needs a secret line and three sections");
  const head = parseHead(section);
  if (!head.ok) return head;
  try {
    const sections = request.subarray(variables.byteOffset - request.byteOffset, functions.byteOffset - request.byteOffset + functions.length);
    const known = cache?.get(sections);
    const common = head.value;
    if (known !== undefined) return ok({ ...common, env: known });
    const env: Record<string, string> = {};
    for (const d of parseDeclared(variables)) {
      // Exported scalars with a value are what a child gets; `__tr_*` are the function's own
      // locals, exported only if the caller runs with `set -a`.
      if (!d.flags.includes("x") || d.flags.includes("a") || d.flags.includes("A") || !(d.value instanceof Uint8Array) || d.name.startsWith("__tr_")) continue;
      env[d.name] = utf8.decode(d.value);
    }
    for (const f of parseFunctions(utf8.decode(functions))) env[`BASH_FUNC_${f.name}%%`] = `() ${f.body}`;
    cache?.set(sections, env);
    return ok({ ...common, env });
  } catch (e) {
    if (e instanceof DeclareSyntaxError) return err(`unreadable request: ${e.message}`);
    throw e;
  }
}
