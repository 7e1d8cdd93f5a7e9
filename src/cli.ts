import { type Result, ok, err } from "./result.ts";

/** What the command line asks for. */
export type Invocation =
  | { kind: "run"; name: string | null; force: boolean; command: string[] }
  | { kind: "help" }
  | { kind: "version" };

/** The runner's own options, the single source for parsing and for `--help`. */
export const OPTIONS = {
  name: { alias: "n", takesValue: true, description: "Task name: its lock, hash, log and result files (default: base name of CMD)" },
  force: { alias: "f", takesValue: false, description: "Run even if the inputs are unchanged (nested tasks are not forced)" },
  help: { alias: "h", takesValue: false, description: "Show this help" },
  version: { alias: "V", takesValue: false, description: "Show the version" },
} as const;

type OptionName = keyof typeof OPTIONS;

function lookup(word: string): OptionName | null {
  for (const [long, def] of Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]) {
    if (word === `--${long}` || word === `-${def.alias}`) return long;
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
    ([long, def]) => [`-${def.alias}, --${long}${def.takesValue ? " NAME" : ""}`, def.description] as const,
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
