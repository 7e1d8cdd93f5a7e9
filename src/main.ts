import { fstatSync, writeSync } from "./sys/fs.ts";
import { basename, join, resolve } from "node:path";
import { version } from "../package.json" with { type: "json" };
import { parseCli, usage } from "./cli.ts";
import { readSettings, type Settings } from "./settings.ts";
import { checkTaskName, newBuildId, taskPaths } from "./state/paths.ts";
import { runTask, type LocalAccess, type RemoteAccess } from "./task/run.ts";
import type { CommitStatusAccess } from "./task/report.ts";
import { Cancellation } from "./task/cancel.ts";

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

// The executable starts with JIT tier-up thresholds raised (build.ts) so that start-up code stays
// in the interpreter. A runner still busy after 50 ms is past start-up (a task streaming output,
// hashing a big tree): from then on hot code is compiled as usual.
const JIT_NORMAL_AFTER_MS = 50;
setTimeout(() => Bun.unsafe.setJITPolicy(1), JIT_NORMAL_AFTER_MS).unref();

async function main(): Promise<number> {
  const cancel = new Cancellation((code) => process.exit(code));
  cancel.install();

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

  const name = checkTaskName(invocation.name ?? basename(invocation.command[0]!));
  if (!name.ok) fail(name.error);

  const bucket = settings.remote.bucket;
  if (settings.uploadLogs && bucket === null) {
    fail("TASKRUNNER_UPLOAD_LOGS=1 needs TASKRUNNER_REMOTE_CACHE_BUCKET (the bucket the logs are uploaded to)");
  }
  const remote: RemoteAccess | null =
    bucket === null
      ? null
      : {
          open: () => import("./cache/s3-store.ts").then(({ openS3Store }) => openS3Store(settings.remote, bucket)),
          prefix: settings.remote.prefix,
          logsPrefix: settings.remote.logsPrefix ?? "",
          logsViewUrl: settings.remote.logsViewUrl,
          signingKey: settings.signingKey,
        };
  const remoteMisconfigured =
    bucket === null && settings.saveRemoteCache
      ? "TASKRUNNER_SAVE_REMOTE_CACHE=1 needs TASKRUNNER_REMOTE_CACHE_BUCKET (the bucket the cache is uploaded to); set it, or unset TASKRUNNER_SAVE_REMOTE_CACHE"
      : null;

  const cwd = process.cwd();
  const stateDir = resolve(cwd, settings.stateDir);
  const localCache = settings.localCache;
  const local: LocalAccess | null =
    localCache === null ? null : { dir: resolve(cwd, localCache.dir), prefix: settings.remote.prefix, maxBytes: localCache.maxBytes };
  // The GitHub client (and octokit) is loaded only when statuses are enabled and a task posts.
  const github = settings.github;
  const commitStatus: CommitStatusAccess | null =
    github === null
      ? null
      : {
          open: (say) =>
            import("./github/status-client.ts").then(({ openStatusClient }) =>
              openStatusClient({
                ...github,
                cachePath: join(stateDir, ".github-token-cache.json"),
                thresholdSeconds: settings.githubTokenRefreshThresholdSeconds,
                userAgent: `taskrunner/${version}`,
                say,
              }),
            ),
        };
  const nested = settings.nested;
  const buildId = nested?.buildId ?? newBuildId(new Date(), process.pid);
  // A nested invocation writes straight to the build's top-level descriptors (SPEC §2); if they
  // are not open here (the variables were copied into an unrelated shell), its own are used.
  const toplevelStdout = openFd(nested?.stdoutFd ?? null) ?? 1;
  const toplevelStderr = openFd(nested?.stderrFd ?? null) ?? 2;

  return runTask(
    {
      name: name.value,
      force: invocation.force,
      command: invocation.command,
      paths: taskPaths(stateDir, buildId, name.value),
      buildId,
      topLevel: nested === null,
      cwd,
      stateDir,
      env: process.env,
      toplevelStdout,
      toplevelStderr,
      parentRequestFd: openFd(nested?.parentRequestFd ?? null),
      settings,
      remote,
      local,
      remoteMisconfigured,
      commitStatus,
    },
    cancel,
  );
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
