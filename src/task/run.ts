import { TaskOutput } from "../output/task-output.ts";
import { joinBytes } from "../output/lines.ts";
import { localTimeIsUtc } from "../output/format.ts";
import { serveRequests } from "../protocol/server.ts";
import { REPLY_ERROR, REPLY_SKIP, invalidRequestMessage, unknownCommandMessage, type Request } from "../protocol/messages.ts";
import { acquireLock } from "../state/lock.ts";
import { readResult, writeResult } from "../state/results.ts";
import { StateWriteError } from "../state/state-error.ts";
import type { TaskPaths } from "../state/paths.ts";
import { spawnTask, CHILD_FD, type SpawnedTask } from "./spawn.ts";
import { warmUp } from "../inputs/hash.ts";
import { readLines, within } from "./streams.ts";
import { decide, type Decision } from "./decide.ts";
import { earlySnapshotArgs } from "./early-snapshot.ts";
import { finishSuccess } from "./finish.ts";
import { exitStatusText, type ParentChannel } from "./parent.ts";
import type { TaskCancel } from "./cancel.ts";
import type { ObjectStore } from "../cache/store.ts";
import type { RemoteCache } from "../cache/remote-cache.ts";
import type { LocalCache } from "../cache/local-cache.ts";
import type { Secret } from "../github/secret.ts";
import { logViewUrl } from "../cache/keys.ts";
import { TaskReport, type CommitStatusAccess } from "./report.ts";
import { join, relative } from "../sys/path.ts";
import { readlinkSync } from "../sys/fs.ts";
import { nowUs, type Trace } from "../trace/spans.ts";
import { once } from "../once.ts";
import type { ViewResult, ViewSink } from "../output/view-sink.ts";
import { childEnv } from "./child-env.ts";

/** Everything one invocation needs to run its task. */
export interface TaskInvocation {
  name: string;
  force: boolean;
  command: string[];
  paths: TaskPaths;
  buildId: string;
  topLevel: boolean;
  cwd: string;
  stateDir: string;
  /** The environment the runner was started with. */
  env: Record<string, string | undefined>;
  toplevelStdout: number;
  toplevelStderr: number;
  /** Where "Starting subtask"/"Subtask ... finished" go, or null at the top level. */
  parent: ParentChannel | null;
  /**
   * Rehearse the stat memo while the task's bash starts (inputs/hash.ts warmUp): a runner
   * process starts cold, and its one task's hit path is then warm when `snapshot` comes. A top
   * level serving nested calls has that code warm already, and its thread serves every task of
   * the build: it does not walk the inputs twice.
   */
  rehearse: boolean;
  /** The build's live view (top level on a terminal), shared by the tasks of this process; or null. */
  view: ViewSink | null;
  /** Top level: the channel file its build's nested calls find it by (nest/channel.ts), or null (fast path off). */
  nesting: string | null;
  /**
   * Told once the task's process has started, while its bash starts: the top level opens its
   * build's nested-call channel then, off the way of a task that makes no nested calls. Or null.
   */
  started: (() => void) | null;
  /**
   * Told the task's final exit code as soon as it is recorded and the parent told, before the
   * log is closed, the trace line written and the lock released, which follow at once, with
   * nothing of this process in between: a served call answers its caller here. Or null.
   */
  answer: ((code: number) => void) | null;
  settings: {
    timestamps: boolean;
    logInfo: boolean;
    debug: boolean;
    quiet: boolean;
    streamTimeoutSeconds: number;
    primeCacheMode: boolean;
    rootDir: string | null;
    fallbackBranches: string[];
    mainBranch: string | null;
    saveRemoteCache: boolean;
    uploadLogs: boolean;
    statShortcut: boolean;
    earlySnapshot: boolean;
  };
  /** The remote cache, if a bucket is configured. */
  remote: RemoteAccess | null;
  /** The local output cache, if TASKRUNNER_LOCAL_CACHE_DIR is set. */
  local: LocalAccess | null;
  /** A setting the remote cache needs and lacks, reported when a task uses it. */
  remoteMisconfigured: string | null;
  /** GitHub commit statuses, if TASKRUNNER_ENABLE_COMMIT_STATUS=1. */
  commitStatus: CommitStatusAccess | null;
}

/** How to reach the remote cache; the store is opened (and its SDK loaded) on first use. */
export interface RemoteAccess {
  open: () => Promise<ObjectStore>;
  prefix: string;
  logsPrefix: string;
  /** TASKRUNNER_LOGS_VIEW_URL: where uploaded logs can be viewed, or null. */
  logsViewUrl: string | null;
  /** TASKRUNNER_CACHE_SIGNING_KEY, or null: archives are then neither signed nor checked. */
  signingKey: Secret | null;
}

/** The local output cache: an absolute directory, the key prefix and the size bound. */
export interface LocalAccess {
  dir: string;
  prefix: string;
  maxBytes: number;
}

/** The longest a decision's log lines wait for its reply (see holdLog in task-output.ts). */
const LOG_HELD_MS = 50;

const SNAPSHOT_TWICE = "snapshot: called a second time in this task; call snapshot once, with all inputs and outputs";

/**
 * Runs one task: lock -> dedupe -> spawn -> serve snapshot -> stream -> finish. Returns the exit
 * code. Several may run at once in one process (the top level serves its build's nested calls):
 * everything of the invocation is in `inv`, `cancel` and `trace`, nothing in the process.
 */
export async function runTask(inv: TaskInvocation, cancel: TaskCancel, trace: Trace): Promise<number> {
  try {
    return await runInvocation(inv, cancel, trace);
  } finally {
    inv.parent?.close();
  }
}

async function runInvocation(inv: TaskInvocation, cancel: TaskCancel, trace: Trace): Promise<number> {
  const out = new TaskOutput({
    name: inv.name,
    timestamps: inv.settings.timestamps,
    showInfo: inv.settings.logInfo,
    showDebug: inv.settings.debug,
    quiet: inv.settings.quiet,
    stdoutFd: inv.toplevelStdout,
    stderrFd: inv.toplevelStderr,
    logPath: inv.paths.log,
    utc: inv.settings.timestamps && localTimeIsUtc(inv.env.TZ, localtimeLink),
    view: inv.view,
  });
  const say = (level: "info" | "warn" | "error" | "debug", text: string) => out.message(level, text);
  const traceStart = nowUs();
  // The parent's log names the subtask's log, so a failure found there can be followed down.
  if (inv.parent !== null) inv.view?.expectNotices(inv.name);
  inv.parent?.tell(`Starting subtask ${inv.name}`, `Subtask ${inv.name} log: ${relative(inv.stateDir, inv.paths.log)}`);

  const lockStart = nowUs();
  // Cancelled before its task started, an invocation gives up where it is, as a runner process
  // exits at once then: no result, no status, nothing more to tell.
  const lock = await acquireLock(inv.paths.lock, () => say("debug", `waiting for the lock ${inv.paths.lock}`), () => cancel.signal !== null);
  if (lock === null) {
    if (inv.parent !== null) inv.view?.forgetNotices(inv.name);
    out.finish(true);
    return cancel.exitCode();
  }
  trace.endSpan("lock wait", lockStart);
  // Checked under the lock, so a duplicate that waited sees the first one's result (SPEC §4).
  const recorded = inv.topLevel ? null : readResult(inv.paths.result);
  if (recorded !== null) {
    inv.parent?.tell(`Subtask ${inv.name} finished with ${exitStatusText(recorded)}`);
    out.finish(true);
    trace.endSpan(`task ${inv.name}`, traceStart, { result: "recorded", exitCode: recorded });
    trace.flush(inv.paths.buildDir, inv.name);
    lock.release();
    return recorded;
  }

  // One cache of each kind per task, made on first use: the S3 client is loaded only if needed.
  const remote = inv.remote;
  const remoteCache =
    remote === null
      ? null
      : once(() =>
          import("../cache/remote-cache.ts").then(({ RemoteCache }) =>
            trace.traceMethods(new RemoteCache(remote.open, remote.prefix, join(inv.paths.buildDir, "remote-cache-off"), say, remote.signingKey, inv.env), {
              restore: "cache restore (remote)",
              latest: "cache lookup (remote latest)",
              upload: "upload (remote)",
              uploadLog: "log upload",
            }),
          ),
        );
  const local = inv.local;
  const localCache =
    local === null
      ? null
      : once(() =>
          Promise.all([import("../cache/local-cache.ts"), import("../cache/local-store.ts")]).then(([{ LocalCache }, { LocalStore }]) =>
            trace.traceMethods(new LocalCache(new LocalStore(local.dir), local.prefix, local.maxBytes, say, inv.env), { restore: "cache restore (local)", fill: "cache fill (local)" }),
          ),
        );

  const report =
    inv.commitStatus === null
      ? null
      : trace.traceMethods(new TaskReport(inv.commitStatus, { name: inv.name, cwd: inv.cwd, env: inv.env, offMarker: join(inv.paths.buildDir, "commit-status-off"), say }), {
          prepare: "github token",
          decided: "status post",
          finished: "status post",
        });
  // SPEC §7: the top level gets a token before its task starts, so that its subtasks, nested
  // or parallel, find it in the token cache: one token request per build.
  if (report !== null && inv.topLevel) await report.prepare();
  if (cancel.signal !== null) {
    if (inv.parent !== null) inv.view?.forgetNotices(inv.name);
    out.finish(true);
    lock.release();
    return cancel.exitCode();
  }
  const viewId = inv.view?.started(inv.name, inv.paths.log);

  const seen: { decision: Decision | null } = { decision: null };
  // A state directory that cannot be written fails the task with one error line (state-error.ts).
  let stateError: StateWriteError | null = null;
  const failState = (e: unknown): number => {
    if (!(e instanceof StateWriteError)) throw e;
    if (stateError === null) say("error", e.message);
    stateError ??= e;
    return 1;
  };
  let code = await runLocked(inv, out, say, cancel, trace, { remoteCache, localCache }, report, seen).catch(failState);
  const logError = out.logError();
  if (logError !== null) code = failState(logError);
  let targetUrl: string | null = null;
  if (inv.settings.uploadLogs && remoteCache !== null) {
    const uploaded = await (await remoteCache()).uploadLog(remote!.logsPrefix, inv.buildId, inv.name, inv.paths.log);
    if (uploaded && remote!.logsViewUrl !== null) targetUrl = logViewUrl(remote!.logsViewUrl, inv.buildId, inv.name);
  }
  // After the log upload: the final status links to the uploaded log.
  if (report !== null) {
    const d = seen.decision;
    await report.finished({ code, cancelledBy: cancel.signal, outcome: d?.outcome ?? null, commitStatus: d?.options?.commitStatus ?? false, targetUrl });
  }
  try {
    writeResult(inv.paths.result, code);
  } catch (e) {
    code = failState(e);
  }
  if (viewId !== undefined) inv.view?.ended(viewId, viewResult(code, seen.decision), inv.paths.log);
  inv.parent?.tell(`Subtask ${inv.name} finished with ${exitStatusText(code)}`);
  inv.answer?.(code);
  out.finish(code === 0);
  trace.endSpan(`task ${inv.name}`, traceStart, { exitCode: code });
  trace.flush(inv.paths.buildDir, inv.name);
  lock.release();
  return code;
}

async function runLocked(
  inv: TaskInvocation,
  out: TaskOutput,
  say: (level: "info" | "warn" | "error" | "debug", text: string) => void,
  cancel: TaskCancel,
  trace: Trace,
  { remoteCache, localCache }: { remoteCache: (() => Promise<RemoteCache>) | null; localCache: (() => Promise<LocalCache>) | null },
  report: TaskReport | null,
  seen: { decision: Decision | null },
): Promise<number> {
  let decision: Decision | null = null;
  let task: SpawnedTask;
  const runStart = nowUs();
  const endRunSpan = () => trace.endSpan("run", runStart, { command: inv.command.join(" ").slice(0, 200) });

  /** Decides a `snapshot` call; the decision's log lines wait in memory until `release` (TaskOutput.holdLog). */
  const decideCall = async (args: Buffer[]): Promise<{ decision: Decision; release: () => void }> => {
    out.holdLog();
    const timer = setTimeout(() => out.releaseLog(), LOG_HELD_MS).unref();
    const release = () => {
      clearTimeout(timer);
      out.releaseLog();
    };
    const made = await trace.timed("decide", () => decide(args, {
      name: inv.name,
      rootDir: inv.settings.rootDir,
      fallbackBranches: inv.settings.fallbackBranches,
      mainBranch: inv.settings.mainBranch,
      remoteCache,
      localCache,
      remoteMisconfigured: inv.remoteMisconfigured,
      force: inv.force,
      primeCacheMode: inv.settings.primeCacheMode,
      hashPath: inv.paths.hash,
      statMemo: statMemo(inv),
      cwd: inv.cwd,
      env: inv.env,
      tmpDir: tmpDir(inv.env),
      say,
      trace,
    }));
    // Posted before the reply, so `pending` is on GitHub before the task's work starts.
    const options = made.options;
    if (report !== null && options !== null) {
      await report.decided(made.outcome, options.commitStatus, options.inputs.length > 0 || options.raw.length > 0);
    }
    return { decision: made, release };
  };

  // The early decision (early-snapshot.ts): the task's first `snapshot` call read from its
  // command, decided before its bash starts. A reply that ends the task (`exit 0`, `exit 1`) is
  // what that bash would have done next: it is not started at all. Otherwise it starts, and
  // its call gets this decision when it comes with the same arguments.
  const env = childEnv(inv, CHILD_FD);
  let early: { args: Buffer[]; decision: Decision } | null = null;
  // Not when a signal came already: bash then starts and is ended at once, deciding nothing.
  const earlyArgs = inv.settings.earlySnapshot && cancel.signal === null ? earlySnapshotArgs(inv.command, inv.cwd, env) : null;
  if (earlyArgs !== null) {
    // A signal does not wait for the decision (a hung remote cache, say), as it does not when
    // bash is waiting for the reply: the task ends cancelled, and nothing of it starts.
    cancel.deciding(true);
    const made = await Promise.race([decideCall(earlyArgs), cancel.cancelled.then(() => null)]);
    cancel.deciding(false);
    made?.release();
    const reply = made?.decision.reply;
    const ends = reply === REPLY_SKIP ? 0 : reply === REPLY_ERROR ? 1 : null;
    if (made === null || ends !== null || cancel.signal !== null) {
      if (made !== null) decision = seen.decision = made.decision;
      endRunSpan();
      // Cancelled (conclude says so), or ended by the reply.
      return conclude(ends ?? 1);
    }
    early = { args: earlyArgs, decision: made.decision };
  }

  try {
    task = spawnTask({ command: inv.command, env, cwd: inv.cwd, toplevelStdout: inv.toplevelStdout, toplevelStderr: inv.toplevelStderr });
  } catch (e) {
    // Not "Failed, exit code": that is said only by tasks that announced they were running.
    say("error", `could not start ${JSON.stringify(inv.command[0])}: ${startError(e)}`);
    return 127;
  }
  cancel.attach(task.proc.pid);
  inv.started?.();
  out.warmClock();
  if (inv.rehearse && early === null) warmUp(statMemo(inv), inv.env);

  const handle = async (request: Request): Promise<string | null> => {
    switch (request.kind) {
      case "debug": {
        const text = joinBytes(request.words, 32);
        out.line("debug", text);
        // A subtask's notices: how the view sees tasks of nested executables.
        inv.view?.notified(Buffer.from(text).toString("utf8"));
        return null;
      }
      case "invalid":
        say("error", invalidRequestMessage(request));
        say("error", request.reason);
        return REPLY_ERROR;
      case "unknown":
        say("error", unknownCommandMessage(request));
        return REPLY_ERROR;
      case "snapshot": {
        if (decision !== null) {
          say("error", SNAPSHOT_TWICE);
          return REPLY_ERROR;
        }
        // The call read from the command: decided already (and its lines logged).
        const made = early !== null && sameArgs(early.args, request.args) ? early.decision : null;
        early = null;
        if (made !== null) {
          decision = seen.decision = made;
          return made.reply;
        }
        // The decision's log lines are written once its reply has gone, so the log is not opened
        // and written on the task's way; or after LOG_HELD_MS if the decision takes longer.
        const { decision: d, release } = await decideCall(request.args);
        decision = seen.decision = d;
        // Runs after the reply is written (serveRequests writes it when this returns).
        setImmediate(release);
        return d.reply;
      }
      default: {
        const never: never = request;
        return never;
      }
    }
  };
  const server = serveRequests(task.request, task.response, handle);
  const stdout = readLines(task.stdout, (line) => out.line("stdout", line));
  const stderr = readLines(task.stderr, (line) => out.line("stderr", line));

  const exitCode = await task.proc.exited;
  endRunSpan();
  const signal = task.proc.signalCode;
  let code = signal === null ? exitCode : 128 + (typeof signal === "number" ? signal : signalNumber(signal));

  // Wait for the streams to close, one after the other, each with a full timeout of its own
  // (SPEC §3: stdout first, then stderr), but not past a cancellation (the group was signalled).
  const timeoutMs = inv.settings.streamTimeoutSeconds * 1000;
  for (const [reader, word] of [[stdout, "stdout"], [stderr, "stderr"]] as const) {
    const closed = await Promise.race([within(reader.done, timeoutMs), cancel.cancelled.then(() => null)]);
    if (closed === null) {
      stdout.abandon();
      stderr.abandon();
      break;
    }
    if (closed) continue;
    reader.abandon();
    say("warn", `taskrunner: Task did not close ${word} ${inv.settings.streamTimeoutSeconds} seconds after exiting.`);
    say("warn", "Perhaps the file descriptor was leaked to a background process?");
    say("warn", "Build will continue despite this error, but some output may be lost.");
  }
  // Requests sent just before the task exited (a subtask's last debug line) are answered
  // before the task's end is reported.
  await Promise.race([server.idle(), cancel.cancelled]);
  server.close();
  cancel.detach();

  return conclude(code);

  /** The end of a task whose process ended with `code` (or that was decided without one). */
  async function conclude(code: number): Promise<number> {
    if (cancel.signal !== null) {
      say("error", `Cancelled by ${cancel.signal}`);
      return cancel.exitCode();
    }
    const d = decision as Decision | null;
    if (code === 0 && d?.outcome === "skip") {
      if (inv.topLevel) say("info", "skipped, inputs unchanged");
      return 0;
    }
    // Only a task that said "Inputs changed, running task" says how it ended (SPEC §5), and it
    // says so as soon as its process has: post-unpack commands and saving come after `success`.
    // A log that could not be written means a state directory that cannot be: save nothing.
    const logError = out.logError();
    if (logError !== null) throw logError;
    if (d?.announced) say(code === 0 ? "info" : "error", code === 0 ? "success" : `Failed, exit code: ${code}`);
    if (code === 0 && d?.pending) {
      code = await trace.timed("finish", () => finishSuccess(d, {
        name: inv.name,
        cwd: inv.cwd,
        env: inv.env,
        hashPath: inv.paths.hash,
        statMemo: statMemo(inv),
        tmpDir: tmpDir(inv.env),
        saveRemoteCache: inv.settings.saveRemoteCache,
        remoteCache,
        localCache,
        cancelled: () => cancel.signal !== null,
        out,
        say,
        trace,
      }));
      if (cancel.signal !== null) {
        say("error", `Cancelled by ${cancel.signal}`);
        return cancel.exitCode();
      }
    }
    return code;
  }
}

/** Whether two `snapshot` calls have the same arguments, byte for byte. */
function sameArgs(a: Buffer[], b: Buffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x.equals(b[i]!));
}

/** How a task ended, as the live view counts it. */
function viewResult(code: number, d: Decision | null): ViewResult {
  if (code !== 0) return "failed";
  if (d?.outcome === "skip") return "skipped";
  if (d?.outcome === "restored") return "restored";
  return "ran";
}

function startError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "command not found (check the name and PATH)";
  if (code === "EACCES") return "permission denied (is it executable?)";
  return e instanceof Error ? e.message : String(e);
}

// Read once per process: a runner serving nested calls would read it for every task.
let localtime: string | null | undefined;
function localtimeLink(): string | null {
  if (localtime !== undefined) return localtime;
  try {
    localtime = readlinkSync("/etc/localtime");
  } catch {
    localtime = null;
  }
  return localtime;
}

/** The number of a signal name (SIGTERM -> 15). */
export function signalNumber(name: string): number {
  // Loaded only on this rare path: node:os costs ~0.3 ms of every start-up.
  const { constants } = require("node:os") as typeof import("node:os");
  return (constants.signals as Record<string, number>)[name] ?? 0;
}

/** os.tmpdir() on Linux for the invocation's environment, without loading node:os on every run. */
function tmpDir(env: Record<string, string | undefined>): string {
  const dir = env.TMPDIR;
  return dir !== undefined && dir !== "" ? dir.replace(/(.)\/+$/, "$1") : "/tmp";
}

/** The task's stat memo, unless TASKRUNNER_DISABLE_STAT_SHORTCUT turned the shortcut off. */
function statMemo(inv: TaskInvocation): string | null {
  return inv.settings.statShortcut ? inv.paths.statMemo : null;
}
