// Serving a nested call in the top-level runner's process: the call's command line, settings
// and surroundings become a task invocation exactly as a nested executable started by the
// caller would make them. Whatever that executable would answer with an error of its own (its
// stderr is the caller's, which this process cannot write to), or whatever cannot be
// reproduced here, is handed back: the caller then runs the executable.
import { parseCli } from "../cli.ts";
import { readSettings, type Settings } from "../settings.ts";
import { prepareRun } from "../invocation.ts";
import { runTask, type TaskInvocation } from "../task/run.ts";
import { procParent } from "../task/parent.ts";
import type { SignalRouter } from "../task/cancel.ts";
import type { ViewSink } from "../output/view-sink.ts";
import { Trace } from "../trace/spans.ts";
import { callerCwd, callerFile, callerHasFd, callerPassedThrough, fileAt, inheritanceOf, ownFile, sameFile, type FileIdentity } from "./caller.ts";
import { EnvCache, parseCall, parseHead, type NestedCall } from "./request.ts";
import { runnerEnvDifference } from "./runner-env.ts";
import { argumentRoom, execFits, stackSoftLimit } from "./exec-limit.ts";
import { readFileOrNull } from "../sys/fs.ts";
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
  /** This process's executable, or null if it cannot be named. */
  self: FileIdentity | null;
  /**
   * What the tasks this process starts inherit from it (limits, scheduling...: inheritance.ts),
   * read once, on the first call.
   */
  inheritance: string | null;
  /** What stays fixed for a caller's life, by pid and start time (caller.ts). */
  fixed: Map<string, string>;
  /**
   * The room for a started program's arguments and environment under this process's stack
   * limit, which a served caller shares (exec-limit.ts).
   */
  argumentRoom: number;
  /** Where PATH (with a working directory, for relative entries) finds the executable. */
  exe: Map<string, string | null>;
  /** The environments of recent calls, parsed. */
  envs: EnvCache;
  /**
   * What those environments give, each parsed once: the settings, and whether a runner process
   * would read the environment as this one reads its own (runner-env.ts).
   */
  fromEnv: WeakMap<object, { settings: ReturnType<typeof readSettings>; sameRunnerEnv: boolean }>;
}

/**
 * What a call takes from its caller's process that needs only its pid: read while the caller
 * still writes its environment (server.ts `early`). The caller is inside the `taskrunner`
 * function meanwhile, so it cannot `cd` or `ulimit`: these are what they are at the call.
 */
export interface CallerFacts {
  pid: number;
  cwd: string | null;
  inheritance: string | null;
  /** The variables its bash passes on as they are, not in `declare -px` (caller.ts). */
  passedThrough: [string, string][] | null;
}

/** The handler of a build's nested calls. */
export type NestedCallHandler = CallHandler<CallerFacts | null>;

/**
 * Runs each nested call of the build as a task of this process. Loaded on the first call (main
 * imports it lazily): a build without nested calls never parses this code.
 */
export function nestedCallHandler(build: ServedBuild): NestedCallHandler {
  const known: Known = {
    stdout: ownFile(build.stdoutFd),
    stderr: ownFile(build.stderrFd),
    self: fileAt("/proc/self/exe"),
    inheritance: null,
    fixed: new Map(),
    argumentRoom: argumentRoom(stackSoftLimit(readFileOrNull("/proc/self/limits", "latin1") ?? "")),
    exe: new Map(),
    envs: new EnvCache(),
    fromEnv: new WeakMap(),
  };
  known.inheritance = inheritanceOf(process.pid, known.fixed);
  const factsOf = (pid: number): CallerFacts => ({ pid, cwd: callerCwd(pid), inheritance: inheritanceOf(pid, known.fixed), passedThrough: callerPassedThrough(pid) });
  const serve: NestedCallHandler["serve"] = async (request, session, early) => {
    const call = parseCall(request, known.envs);
    // A request the parser cannot read is the executable's to run: it gets what bash gives.
    const facts = call.ok ? (early?.pid === call.value.pid ? early : factsOf(call.value.pid)) : null;
    const inv = call.ok && facts !== null ? prepareNested(call.value, facts, build, known) : null;
    if (inv === null) return session.fallback();
    session.accept();
    // The caller goes on while this process closes the log and releases the lock (sessions
    // answer once: the answer after runTask is then a no-op).
    inv.answer = (code) => session.finish(code);
    const cancel = build.router.add();
    // A caller that is gone (its shell killed: `kill %1` of a background call) cancels its task
    // as a SIGTERM to a nested runner would.
    void session.gone.then(() => cancel.cancel("SIGTERM"));
    let code: number;
    try {
      code = await runTask(inv, cancel, Trace.served());
    } finally {
      build.router.remove(cancel);
    }
    session.finish(code);
  };
  return { early: (head) => serveEarly(head, factsOf), serve };
}

function serveEarly(head: Uint8Array, factsOf: (pid: number) => CallerFacts): CallerFacts | null {
  const parsed = parseHead(head);
  return parsed.ok ? factsOf(parsed.value.pid) : null;
}

/** The invocation a nested executable started by the caller would run, or null: let it run. */
function prepareNested(call: NestedCall, facts: CallerFacts, build: ServedBuild, known: Known): TaskInvocation | null {
  const cli = parseCli(call.argv);
  if (!cli.ok || cli.value.kind !== "run") return null;
  if (facts.passedThrough === null) return null;
  const env: Record<string, string> = { ...call.env };
  for (const [name, value] of facts.passedThrough) env[name] ??= value;
  const { cwd } = facts;
  if (cwd === null) return null;
  // The executable as the caller's PATH finds it; not found, `command taskrunner` says so (127).
  // Bash puts its path in `_`.
  const path = env.PATH ?? "";
  const key = `${path}\0${cwd}`;
  let exe = known.exe.get(key);
  if (exe === undefined) known.exe.set(key, (exe = Bun.which("taskrunner", { PATH: path, cwd })));
  if (exe === null) return null;
  // Another program by that name (a wrapper script, another release, this one replaced on disk
  // since the build started) is what the executable path would run: let it.
  if (known.self === null || !sameFile(fileAt(exe), known.self)) return null;
  env._ = exe;
  // Arguments and environment the kernel would refuse the executable: bash reports it (126).
  if (!execFits(["taskrunner", ...call.argv], env, known.argumentRoom)) return null;
  // A caller that has called `taskrunner` holds the real function (the stub defined it), and
  // exports it: the nested task gets the stub again, as any task of the build does.
  if (env[TASKRUNNER_DEFINITION_ENV] === TASKRUNNER_DEFINITION && env[TASKRUNNER_FUNCTION_ENV] !== undefined) env[TASKRUNNER_FUNCTION_ENV] = TASKRUNNER_FUNCTION;
  // Settings come from the environment alone: a caller's repeated environment has them already.
  let fromEnv = known.fromEnv.get(call.env);
  if (fromEnv === undefined) known.fromEnv.set(call.env, (fromEnv = readFromEnv(call.env)));
  const { settings } = fromEnv;
  if (!settings.ok || !settings.value.fastNesting) return null;
  // A caller with another TZ, LD_PRELOAD, AWS profile...: a runner of its own would read them.
  if (!fromEnv.sameRunnerEnv) return null;
  const nested = settings.value.nested;
  // Only this build's calls: a caller that set another build id, or removed it to start a new
  // build, gets what it asked for from the executable.
  if (nested === null || nested.buildId !== build.buildId) return null;
  // The executable writes to the build's descriptors where they are open in its process, else
  // to its own stdout and stderr: served here, those must be this process's descriptors.
  const out = (nested.stdoutFd === null ? null : callerFile(call.pid, nested.stdoutFd)) ?? callerFile(call.pid, 1);
  const errOut = (nested.stderrFd === null ? null : callerFile(call.pid, nested.stderrFd)) ?? callerFile(call.pid, 2);
  if (!sameFile(out, known.stdout) || !sameFile(errOut, known.stderr)) return null;
  // A caller whose limits, priority, namespaces... are not this process's (`ulimit -s` in the
  // script, `nice bash script`): its task must get the caller's, which only the executable gives.
  if (facts.inheritance === null || facts.inheritance !== known.inheritance) return null;
  const request = nested.parentRequestFd;
  const parent = request !== null && callerHasFd(call.pid, request) ? procParent(call.pid, request) : null;
  const inv = prepareRun(cli.value, settings.value, { env, cwd, stdoutFd: build.stdoutFd, stderrFd: build.stderrFd, parent, view: build.view, rehearse: false });
  return inv.ok ? inv.value : null;
}

function readFromEnv(env: Readonly<Record<string, string>>): { settings: ReturnType<typeof readSettings>; sameRunnerEnv: boolean } {
  const settings = readSettings(env);
  return { settings, sameRunnerEnv: settings.ok && runnerEnvDifference(env, process.env, reachesNetwork(settings.value)) === null };
}

// The remote cache (and log upload) and commit statuses: what talks to servers.
function reachesNetwork(settings: Settings): boolean {
  return settings.remote.bucket !== null || settings.remote.logsPrefix !== null || settings.github !== null;
}
