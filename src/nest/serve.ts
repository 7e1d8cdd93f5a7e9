// Serving a nested call in the top-level runner's process: the call's command line, settings
// and surroundings become a task invocation exactly as a nested executable started by the
// caller would make them. Whatever that executable would answer with an error of its own (its
// stderr is the caller's, which this process cannot write to), or whatever cannot be
// reproduced here, is handed back: the caller then runs the executable.
import { parseCli } from "../cli.ts";
import { readSettings } from "../settings.ts";
import { prepareRun } from "../invocation.ts";
import { runTask, type TaskInvocation } from "../task/run.ts";
import { procParent } from "../task/parent.ts";
import type { SignalRouter } from "../task/cancel.ts";
import type { ViewSink } from "../output/view-sink.ts";
import { Trace } from "../trace/spans.ts";
import { edenGC } from "bun:jsc";
import { callerCwd, callerFile, callerHasFd, ownFile, sameFile, type FileIdentity } from "./caller.ts";
import { EnvCache, parseCall, type NestedCall } from "./request.ts";
import { TASKRUNNER_DEFINITION, TASKRUNNER_DEFINITION_ENV, TASKRUNNER_FUNCTION, TASKRUNNER_FUNCTION_ENV } from "./function.ts";
import type { CallHandler } from "./server.ts";

/** The build a top-level runner serves nested calls for. */
export interface ServedBuild {
  buildId: string;
  /** The top-level output descriptors of this process. */
  stdoutFd: number;
  stderrFd: number;
  router: SignalRouter;
  /** The build's live view, or null. */
  view: ViewSink | null;
}

/** What serving calls reuses from one call to the next. */
interface Known {
  /** The files of this process's top-level descriptors. */
  stdout: FileIdentity;
  stderr: FileIdentity;
  /** Where PATH (with a working directory, for relative entries) finds the executable. */
  exe: Map<string, string | null>;
  /** The environments of recent calls, parsed. */
  envs: EnvCache;
  /** The settings of those environments. */
  settings: WeakMap<object, ReturnType<typeof readSettings>>;
  /** Calls served so far. */
  calls: number;
  /** Calls being served now. */
  active: number;
  /** Tasks started since garbage was last collected. */
  sinceCollected: number;
}

/**
 * Every so many tasks, a call served alone collects the young garbage while its task's bash
 * starts up: each task leaves ~1 MB (Bun's pipe readers take 256 KiB each), and the collection
 * the runtime starts by itself at 8 MB lands wherever the allocation that crossed the line is,
 * often between a `snapshot` request and its reply (measured: 2-4 ms of pause in each). Done
 * here, the same work overlaps the bash start-up. Calls served side by side leave it to the
 * runtime: this process is not idle then.
 */
const COLLECT_EVERY = 4;

/** The handler of a build's nested calls, and a warm-up of it. */
export interface NestedCalls {
  handle: CallHandler;
  /**
   * Parses and prepares a made-up call (this process's own environment, a `true` task), and
   * throws the result away: nothing is started, opened or written. The top level does this
   * while its task runs and it idles, so that the first real call finds this code loaded and
   * compiled (measured: the first call of a build took ~15 ms more than the next ones).
   */
  warm(): void;
}

/**
 * Runs each nested call of the build as a task of this process. Loaded when the top-level task
 * has run a while, or with the first call (main imports it lazily): a build without nested
 * calls never parses this code.
 */
export function nestedCalls(build: ServedBuild): NestedCalls {
  const known: Known = { stdout: ownFile(build.stdoutFd), stderr: ownFile(build.stderrFd), exe: new Map(), envs: new EnvCache(), settings: new WeakMap(), calls: 0, active: 0, sinceCollected: 0 };
  // The first collection of a process marks everything it has (nothing is old yet): forced, it
  // took 11 ms, longer than a bash start-up, where the runtime's own, concurrent one pauses less.
  // So forced collections begin once the runtime has collected: when this object is gone.
  const firstCollection = new WeakRef({});
  const collectWhileStarting = () => {
    if (known.active !== 1 || firstCollection.deref() !== undefined || ++known.sinceCollected < COLLECT_EVERY) return;
    known.sinceCollected = 0;
    edenGC();
  };
  const warm = () => {
    try {
      const call = parseCall(madeUpRequest(build));
      if (call.ok) prepareNested(call.value, build, known);
    } catch {
      // Only a warm-up.
    }
  };
  const handle: CallHandler = async (request, session) => {
    const call = parseCall(request, known.envs);
    // A request the parser cannot read is the executable's to run: it gets what bash gives.
    const inv = call.ok ? prepareNested(call.value, build, known) : null;
    if (inv === null) return session.fallback();
    session.accept();
    // The first task served rehearses its stat memo while its bash starts: that code is cold.
    inv.rehearse = known.calls++ === 0;
    inv.whileStarting = collectWhileStarting;
    // The caller goes on while this process closes the log and releases the lock (sessions
    // answer once: the answer after runTask is then a no-op).
    inv.answer = (code) => session.finish(code);
    known.active++;
    const cancel = build.router.add();
    // A caller that is gone (its shell killed: `kill %1` of a background call) cancels its task
    // as a SIGTERM to a nested runner would.
    void session.gone.then(() => cancel.cancel("SIGTERM"));
    let code: number;
    try {
      code = await runTask(inv, cancel, Trace.served());
    } finally {
      build.router.remove(cancel);
      known.active--;
    }
    session.finish(code);
  };
  return { handle, warm };
}

/** A request as the `taskrunner` function would send it from a task of this build, made of this process's environment. */
export function madeUpRequest(build: ServedBuild): Uint8Array {
  const env: Record<string, string | undefined> = {
    ...process.env,
    _taskrunner_build_id: build.buildId,
    _taskrunner_toplevel_stdout: String(build.stdoutFd),
    _taskrunner_toplevel_stderr: String(build.stderrFd),
  };
  const quote = (v: string) => `"${v.replace(/["\\$`]/g, "\\$&")}"`;
  const variables = Object.entries(env)
    .filter(([name, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `declare -x ${name}=${quote(value!)}\n`)
    .join("");
  const own = `declare -a __tr_argv=([0]="-n" [1]="warm-up" [2]="true")\ndeclare -- __tr_pid="${process.pid}"\n`;
  return Buffer.from(`warm-up\n0022\n${own}\0${variables}\0\0`, "latin1");
}

/** The invocation a nested executable started by the caller would run, or null: let it run. */
function prepareNested(call: NestedCall, build: ServedBuild, known: Known): TaskInvocation | null {
  const cli = parseCli(call.argv);
  if (!cli.ok || cli.value.kind !== "run") return null;
  const env: Record<string, string> = { ...call.env };
  // A caller that has called `taskrunner` holds the real function (the stub defined it), and
  // exports it: the nested task gets the stub again, as any task of the build does.
  if (env[TASKRUNNER_DEFINITION_ENV] === TASKRUNNER_DEFINITION && env[TASKRUNNER_FUNCTION_ENV] !== undefined) env[TASKRUNNER_FUNCTION_ENV] = TASKRUNNER_FUNCTION;
  const cwd = callerCwd(call.pid);
  if (cwd === null) return null;
  // Bash puts the path of the command it runs in `_`: the executable's, as the caller's PATH finds it.
  const path = env.PATH ?? "";
  const key = `${path}\0${cwd}`;
  let exe = known.exe.get(key);
  if (exe === undefined) known.exe.set(key, (exe = Bun.which("taskrunner", { PATH: path, cwd })));
  if (exe !== null) env._ = exe;
  // Settings come from the environment alone: a caller's repeated environment has them already.
  let settings = known.settings.get(call.env);
  if (settings === undefined) known.settings.set(call.env, (settings = readSettings(call.env)));
  if (!settings.ok || !settings.value.fastNesting) return null;
  const nested = settings.value.nested;
  // Only this build's calls: a caller that set another build id, or removed it to start a new
  // build, gets what it asked for from the executable.
  if (nested === null || nested.buildId !== build.buildId) return null;
  // The executable writes to the build's descriptors where they are open in its process, else
  // to its own stdout and stderr: served here, those must be this process's descriptors.
  const out = (nested.stdoutFd === null ? null : callerFile(call.pid, nested.stdoutFd)) ?? callerFile(call.pid, 1);
  const errOut = (nested.stderrFd === null ? null : callerFile(call.pid, nested.stderrFd)) ?? callerFile(call.pid, 2);
  if (!sameFile(out, known.stdout) || !sameFile(errOut, known.stderr)) return null;
  const request = nested.parentRequestFd;
  const parent = request !== null && callerHasFd(call.pid, request) ? procParent(call.pid, request) : null;
  const inv = prepareRun(cli.value, settings.value, { env, cwd, stdoutFd: build.stdoutFd, stderrFd: build.stderrFd, parent, umask: call.umask, view: build.view, rehearse: false });
  return inv.ok ? inv.value : null;
}
