import { fstatSync, writeSync } from "./sys/fs.ts";
import { isTerminal } from "./sys/libc.ts";
import { resolve } from "./sys/path.ts";
import { version } from "../package.json" with { type: "json" };
import { parseCli, usage } from "./cli.ts";
import { readSettings, type Settings } from "./settings.ts";
import { prepareRun } from "./invocation.ts";
import { runTask } from "./task/run.ts";
import { pipeParent } from "./task/parent.ts";
import { SignalRouter } from "./task/cancel.ts";
import { BuildChannel, channelFile } from "./nest/channel.ts";
import type { CallerFacts, NestedCallHandler } from "./nest/serve.ts";
import { Trace, writeTraceJson } from "./trace/spans.ts";
import { once } from "./once.ts";

// argv -> settings -> run -> exit code. The only module that turns results into an exit code.

function fail(message: string): never {
  writeSync(2, `taskrunner: ${message}\n`);
  process.exit(1);
}

/** A descriptor number inherited from the build, if it is really open here. */
function openFd(fd: number | null): number | null {
  if (fd === null) return null;
  try {
    fstatSync(fd);
    return fd;
  } catch {
    return null;
  }
}

// The executable runs with JIT tier-up thresholds raised (build.ts), and keeps them: code hot
// enough still gets compiled, only later. Measured on 2 cores against normal thresholds from
// 50 ms on: 20 nested no-ops 12% faster (compiling competed with the tasks' bashes for the
// cores and never paid back), 1M lines of output and a 10,000-file hash the same.

async function main(): Promise<number> {
  const router = new SignalRouter((code) => process.exit(code));
  router.install();

  const cli = parseCli(process.argv.slice(2));
  if (!cli.ok) fail(cli.error);
  const invocation = cli.value;
  if (invocation.kind === "help") {
    writeSync(1, usage(version));
    return 0;
  }
  if (invocation.kind === "version") {
    writeSync(1, `taskrunner ${version}\n`);
    return 0;
  }

  const settingsResult = readSettings(process.env);
  if (!settingsResult.ok) fail(settingsResult.error);
  const settings: Settings = settingsResult.value;

  if (invocation.kind === "trace") {
    // Loaded only here: the renderer is not on the start-up path.
    const { renderTrace } = await import("./trace/render.ts");
    const page = renderTrace(resolve(process.cwd(), settings.stateDir), invocation.build);
    if (!page.ok) fail(page.error);
    writeSync(1, `${page.value}\n`);
    return 0;
  }

  if (invocation.kind === "explain") {
    const { explainTask } = await import("./explain.ts");
    const text = explainTask(resolve(process.cwd(), settings.stateDir), invocation.name);
    if (!text.ok) fail(text.error);
    writeSync(1, text.value);
    return 0;
  }

  const nested = settings.nested;
  // A nested invocation writes straight to the build's top-level descriptors (SPEC §2); if they
  // are not open here (the variables were copied into an unrelated shell), its own are used.
  const parentFd = openFd(nested?.parentRequestFd ?? null);
  const prepared = prepareRun(invocation, settings, {
    env: process.env,
    cwd: process.cwd(),
    stdoutFd: openFd(nested?.stdoutFd ?? null) ?? 1,
    stderrFd: openFd(nested?.stderrFd ?? null) ?? 2,
    parent: parentFd === null ? null : pipeParent(parentFd),
    view: null,
    rehearse: true,
  });
  if (!prepared.ok) fail(prepared.error);
  const inv = prepared.value;

  // On a terminal, the top level shows the build as a live view (view/), loaded only then.
  const view = inv.topLevel && settings.liveView && isTerminal(1) ? (await import("./view/build-view.ts")).startBuildView(inv.stateDir) : null;
  if (view !== null) {
    inv.view = view.sink;
    // Tasks' children (nested executables) write to the view's pipes, never across the area.
    inv.toplevelStdout = view.stdoutFd;
    inv.toplevelStderr = view.stderrFd;
    // Whatever ends the runner (a second signal, an error) leaves the terminal without the area.
    process.on("exit", (exitCode) => view.sink.close(exitCode === 0));
  }

  // The top level serves its build's nested calls in this process (nest/): one runner per build.
  let channel: BuildChannel<CallerFacts | null> | null = null;
  if (inv.topLevel && settings.fastNesting) {
    const build = { buildId: inv.buildId, stdoutFd: inv.toplevelStdout, stderrFd: inv.toplevelStderr, router, view: inv.view };
    // The serving code is loaded with the first call: a build without nested calls never has it.
    let handler: NestedCallHandler | null = null;
    const serving = once(() => import("./nest/serve.ts").then(({ nestedCallHandler }) => (handler = nestedCallHandler(build))));
    const open = new BuildChannel(
      channelFile(inv.paths.buildDir),
      {
        // The first call's early work starts loading the code; that call's facts are read later.
        early: (head) => (handler === null ? (void serving(), null) : handler.early(head)),
        serve: async (request, session, early) => (await serving()).serve(request, session, early),
      },
      (why) => writeSync(inv.toplevelStderr, `taskrunner: refused a connection to the build's nested-call channel: ${why}\n`),
    );
    // Opened once the task's process has started (nest/channel.ts says why).
    inv.nesting = open.file;
    inv.started = () => open.open();
    channel = open;
  }

  const cancel = router.add();
  const code = await runTask(inv, cancel, new Trace());
  router.remove(cancel);
  if (inv.topLevel) {
    // Calls still being served (from a task's leftover background job) are part of the build.
    await channel?.stop();
    // Every runner of the build has appended its trace line by now.
    writeTraceJson(inv.paths.buildDir, inv.buildId);
    await view?.finish(code === 0, settings.streamTimeoutSeconds * 1000);
  }
  return code;
}

// Bugs and unexpected I/O errors end the run with one line, never a stack trace of the
// bundled code; TASKRUNNER_DEBUG=1 shows the stack.
function crash(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  const stack = process.env.TASKRUNNER_DEBUG === "1" && e instanceof Error && e.stack ? `\n${e.stack}` : "";
  fail(`${message}${stack}`);
}
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);

let exitCode: number;
try {
  exitCode = await main();
} catch (e) {
  crash(e);
}
process.exit(exitCode);
