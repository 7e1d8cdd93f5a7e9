// The arguments of a `snapshot` request (SPEC §5 "snapshot arguments"), pure.
import { isUtf8 } from "node:buffer";
import { type Result, ok, err } from "../result.ts";

/** What one `snapshot` call asks for. */
export interface SnapshotOptions {
  /** Input pathspecs (bare words before `--outputs`), relative to the task's directory. */
  inputs: string[];
  /** `--raw` values, as bytes: they may be binary and are hashed as given. */
  raw: Buffer[];
  /** `--fuzzy-cache`: restore the latest archive of a branch when there is no exact hit. */
  fuzzyCache: boolean;
  /** `--cache-root DIR` (the last one wins), or null for the default. */
  cacheRoot: string | null;
  /** `--cache-version V` (the last one wins), or null. */
  cacheVersion: string | null;
  /** `--commit-status`: post GitHub commit statuses for this task. */
  commitStatus: boolean;
  /** `--cache-success`: use the remote cache even without outputs. */
  cacheSuccess: boolean;
  /** Output paths (bare words after `--outputs`). */
  outputs: string[];
  /** Whether `-o/--outputs` appeared at all (possibly with no outputs after it). */
  outputsGiven: boolean;
  /** `-c/--cmd` commands to run after unpacking or a successful run. */
  postUnpack: string[];
}

type ValueOption = "--raw" | "--cache-root" | "--cache-version" | "--cmd";
type FlagOption = "--fuzzy-cache" | "--commit-status" | "--cache-success" | "--long-running" | "--unskippable" | "--outputs";

const VALUE_OPTIONS: Record<string, ValueOption> = {
  "--raw": "--raw",
  "--cache-root": "--cache-root",
  "--cache-version": "--cache-version",
  "--cmd": "--cmd",
  "-c": "--cmd",
};

const FLAG_OPTIONS: Record<string, FlagOption> = {
  "--fuzzy-cache": "--fuzzy-cache",
  "--commit-status": "--commit-status",
  "--cache-success": "--cache-success",
  "--long-running": "--long-running",
  "-l": "--long-running",
  "--unskippable": "--unskippable",
  "-n": "--unskippable",
  "--outputs": "--outputs",
  "-o": "--outputs",
};

const invalidOption = (word: string) => err(`snapshot: Invalid option or missing argument: ${word}`);

/**
 * Parses the arguments after `snapshot`. Options may appear anywhere; bare words are inputs
 * before `-o/--outputs` and outputs after it. Choices the spec leaves open:
 * - `--` ends the options: every later word is a bare word, so a path may start with `-`;
 * - a lone `-` is a bare word (a pathspec), as in most command-line parsers;
 * - long options that take a value also accept `--name=VALUE` (the earlier implementation's
 *   parser did), and a value is taken verbatim even if it starts with `-` (`--raw -x`);
 * - paths, versions and commands must be valid UTF-8 (they become strings for git, file names
 *   and `sh -c`, where a lossy decode would silently name something else); only `--raw` values
 *   may be arbitrary bytes.
 */
export function parseSnapshotArgs(args: Buffer[]): Result<SnapshotOptions, string> {
  const options: SnapshotOptions = {
    inputs: [],
    raw: [],
    fuzzyCache: false,
    cacheRoot: null,
    cacheVersion: null,
    commitStatus: false,
    cacheSuccess: false,
    outputs: [],
    outputsGiven: false,
    postUnpack: [],
  };
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // Only the option name needs decoding; values are decoded (or kept as bytes) per option.
    const word = arg.toString("utf8");
    if (optionsEnded || !word.startsWith("-") || word === "-") {
      const text = utf8(arg);
      if (!text.ok) return text;
      (options.outputsGiven ? options.outputs : options.inputs).push(text.value);
      continue;
    }
    if (word === "--") {
      optionsEnded = true;
      continue;
    }
    const flag = FLAG_OPTIONS[word];
    if (flag !== undefined) {
      switch (flag) {
        case "--fuzzy-cache":
          options.fuzzyCache = true;
          break;
        case "--commit-status":
          options.commitStatus = true;
          break;
        case "--cache-success":
          options.cacheSuccess = true;
          break;
        case "--long-running":
        case "--unskippable":
          break; // accepted for compatibility; they change nothing
        case "--outputs":
          options.outputsGiven = true;
          break;
        default: {
          const never: never = flag;
          return never;
        }
      }
      continue;
    }
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const name = eq === -1 ? word : word.slice(0, eq);
    const option = VALUE_OPTIONS[name];
    if (option === undefined) return invalidOption(word);
    // Checked before the value so that `--cmd` before `--outputs` gets its own message.
    if (option === "--cmd" && !options.outputsGiven) return err("snapshot: --cmd is supported only after --outputs");
    let value: Buffer;
    if (eq !== -1) {
      // The byte offset of "=" equals its UTF-16 offset only for ASCII before it; option names are ASCII.
      value = arg.subarray(Buffer.byteLength(name) + 1);
    } else {
      const next = args[++i];
      if (next === undefined) return invalidOption(word);
      value = next;
    }
    if (option === "--raw") {
      options.raw.push(value);
      continue;
    }
    const text = utf8(value);
    if (!text.ok) return text;
    switch (option) {
      case "--cache-root":
        options.cacheRoot = text.value;
        break;
      case "--cache-version":
        options.cacheVersion = text.value;
        break;
      case "--cmd":
        options.postUnpack.push(text.value);
        break;
      default: {
        const never: never = option;
        return never;
      }
    }
  }
  return ok(options);
}

function utf8(bytes: Buffer): Result<string, string> {
  if (isUtf8(bytes)) return ok(bytes.toString("utf8"));
  return err(`snapshot: Argument is not valid UTF-8: ${JSON.stringify(bytes.toString("utf8"))} (only --raw values may be binary)`);
}
