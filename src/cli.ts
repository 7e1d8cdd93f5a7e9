import { type Result, ok, err } from "./result.ts";

/** What the command line asks for. */
export type Invocation =
  | { kind: "run"; name: string | null; force: boolean; command: string[] }
  | { kind: "help" }
  | { kind: "version" }
  /** `--trace [BUILD]`: render a build's trace as an HTML page (BUILD null: the latest build). */
  | { kind: "trace"; build: string | null }
  /** `--explain NAME`: what changed in the task's hash input between its last two recorded runs. */
  | { kind: "explain"; name: string };

/** The runner's own options, the single source for parsing and for `--help`. */
export const OPTIONS = {
  name: { alias: "n", takesValue: true, description: "Task name: its lock, hash, log and result files (default: base name of CMD)" },
  force: { alias: "f", takesValue: false, description: "Run even if the inputs are unchanged (nested tasks are not forced)" },
  help: { alias: "h", takesValue: false, description: "Show this help" },
  version: { alias: "V", takesValue: false, description: "Show the version" },
  explain: { alias: null, takesValue: true, description: "Show what changed in the task's inputs between its last two recorded runs" },
  trace: { alias: null, takesValue: false, description: "Render a build's trace (default: the latest build) as an HTML page and print its path" },
} as const;

type OptionName = keyof typeof OPTIONS;

function lookup(word: string): OptionName | null {
  for (const [long, def] of Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]) {
    if (word === `--${long}` || (def.alias !== null && word === `-${def.alias}`)) return long;
  }
  return null;
}

/**
 * Splits argv at CMD: options are read only before the first word that is not an option, and
 * everything from CMD on is passed through untouched (`-e -c` in `taskrunner bash -e -c x`
 * belong to bash). citty's parser reads the whole argv and cannot stop there, hence this loop.
 */
export function parseCli(argv: string[]): Result<Invocation> {
  let name: string | null = null;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") return finish(argv.slice(i + 1));
    if (!word.startsWith("-") || word === "-") return finish(argv.slice(i));
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const key = eq > 0 ? word.slice(0, eq) : word;
    const option = lookup(key);
    if (option === null) return err(`unknown option ${JSON.stringify(word)} (options go before CMD; see --help)`);
    if (option === "help") return ok({ kind: "help" });
    if (option === "version") return ok({ kind: "version" });
    if (option === "trace") {
      // A management command: takes at most one BUILD and nothing after it.
      const rest = eq > 0 ? [word.slice(eq + 1), ...argv.slice(i + 1)] : argv.slice(i + 1);
      if (rest.length > 1) return err(`--trace takes at most one BUILD, got ${JSON.stringify(rest.join(" "))}`);
      return ok({ kind: "trace", build: rest[0] ?? null });
    }
    if (option === "explain") {
      // A management command: exactly one NAME and nothing after it.
      const rest = eq > 0 ? [word.slice(eq + 1), ...argv.slice(i + 1)] : argv.slice(i + 1);
      if (rest.length !== 1) return err(`--explain takes one task NAME, got ${rest.length === 0 ? "none" : JSON.stringify(rest.join(" "))}`);
      return ok({ kind: "explain", name: rest[0]! });
    }
    if (option === "force") {
      if (eq > 0) return err(`option --force takes no value, got ${JSON.stringify(word)}`);
      force = true;
      continue;
    }
    // --name VALUE, -n VALUE, --name=VALUE
    let value: string | undefined;
    if (eq > 0) value = word.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) return err(`option ${word} needs a task name`);
    name = value;
  }
  return finish([]);

  function finish(command: string[]): Result<Invocation> {
    if (command.length === 0) return err("missing CMD: usage is taskrunner [-n NAME] [-f] CMD [ARGS...]");
    return ok({ kind: "run", name, force, command });
  }
}

/** The `--help` text. */
export function usage(version: string): string {
  const rows = (Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]).map(
    ([long, def]) => [`${def.alias === null ? "    " : `-${def.alias}, `}--${long}${def.takesValue ? " NAME" : long === "trace" ? " [BUILD]" : ""}`, def.description] as const,
  );
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `taskrunner ${version}: run a task, skipping it when its inputs are unchanged`,
    "",
    "Usage: taskrunner [-n NAME] [-f] CMD [ARGS...]",
    "",
    "Options (only before CMD; CMD and its arguments are passed through untouched):",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    "",
    "Inside the task, call `snapshot INPUT... [--raw S] [--outputs OUT...]` to declare inputs.",
    "Settings are environment variables (TASKRUNNER_*); see the README.",
    "",
  ].join("\n");
}
