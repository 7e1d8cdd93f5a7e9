// The early snapshot decision's facts from the system (first-snapshot.ts reads the text): that
// the command's bash is the system's, its script, and that the locales it would load exist.
import { bashForm, environmentBlocks, firstSnapshot } from "./first-snapshot.ts";
import { readFileSync, realpathSync, statSync } from "../sys/fs.ts";
import { localeInstalled } from "../sys/libc.ts";
import { resolve } from "../sys/path.ts";
import { execFits, LEAST_ARGUMENT_ROOM } from "../nest/exec-limit.ts";

/** The bash binaries whose start-up this knows: the system's. A wrapper elsewhere may do anything. */
const SYSTEM_BASH = new Set(["/usr/bin/bash", "/bin/bash"]);

/** Scripts larger than this are not read (the call is on their first lines; reading is on the task's way). */
const MAX_SCRIPT_BYTES = 256 * 1024;

/**
 * The arguments of the task's first `snapshot` call, if the runner can be sure of them and of a
 * bash that would print nothing and change nothing before making it; otherwise null, and the
 * task starts as always.
 */
export function earlySnapshotArgs(command: string[], cwd: string, env: Record<string, string | undefined>): Buffer[] | null {
  const form = bashForm(command);
  if (form === null) return null;
  const locales: string[] = [];
  if (environmentBlocks(env, locales) !== null) return null;
  // A task bash might not start with (E2BIG) must not be decided without it: only what fits in
  // the room every stack size leaves (reading this process's limit would cost the no-op a file).
  if (!execFits(command, env, LEAST_ARGUMENT_ROOM)) return null;
  // A task whose directory is gone cannot start: that error is the runner's to report.
  if (!isDirectory(cwd)) return null;
  if (!isSystemBash(command[0]!, env.PATH, cwd)) return null;
  const text = form.kind === "string" ? form.text : readScript(resolve(cwd, form.path));
  if (text === null) return null;
  const args = firstSnapshot(text, form.positional);
  if (args === null || !locales.every(installed)) return null;
  return args.map((a) => Buffer.from(a));
}

// Asked once per process and locale: a runner serving a build's nested calls asks for each task.
const installedLocales = new Map<string, boolean>();
function installed(locale: string): boolean {
  let known = installedLocales.get(locale);
  if (known === undefined) installedLocales.set(locale, (known = localeInstalled(locale)));
  return known;
}

/** Whether `program` is found (as the task's start would find it: the task's PATH, its directory) and is the system's bash. */
function isSystemBash(program: string, path: string | undefined, cwd: string): boolean {
  const found = program.includes("/") ? resolve(cwd, program) : Bun.which(program, { PATH: path ?? "", cwd });
  if (found === null) return false;
  try {
    return SYSTEM_BASH.has(realpathSync(found));
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

/** The script's bytes, one character each (latin1), if it is a regular file bash would read; else null. */
function readScript(path: string): string | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile() || st.size > MAX_SCRIPT_BYTES) return null;
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}
