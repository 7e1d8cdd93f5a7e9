// A run invocation (`taskrunner [-n NAME] [-f] CMD...`) turned into everything its task needs:
// the same for the executable's own command line and for a nested call served in-process.
import { basename, join, resolve } from "./sys/path.ts";
import { version } from "../package.json" with { type: "json" };
import { type Result, ok, err } from "./result.ts";
import type { Invocation } from "./cli.ts";
import type { Settings } from "./settings.ts";
import { checkTaskName, newBuildId, taskPaths } from "./state/paths.ts";
import type { LocalAccess, RemoteAccess, TaskInvocation } from "./task/run.ts";
import type { CommitStatusAccess } from "./task/report.ts";
import type { ParentChannel } from "./task/parent.ts";
import type { ViewSink } from "./output/view-sink.ts";

/** Where an invocation's process stands: what the executable finds in its own process, or what a served call's caller has. */
export interface Surroundings {
  env: Record<string, string | undefined>;
  cwd: string;
  /** The build's top-level output descriptors in this process (SPEC §2). */
  stdoutFd: number;
  stderrFd: number;
  parent: ParentChannel | null;
  /** The build's live view, if this process shows one (terminals only). */
  view: ViewSink | null;
  /** Whether to rehearse the stat memo while the task's bash starts (run.ts). */
  rehearse: boolean;
}

/**
 * The task invocation of a run command line, or the error the executable prints for it (a bad
 * task name, a setting a feature needs and lacks). Clients (S3, GitHub) are only described
 * here: they are loaded on first use.
 */
export function prepareRun(run: Extract<Invocation, { kind: "run" }>, settings: Settings, at: Surroundings): Result<TaskInvocation> {
  const name = checkTaskName(run.name ?? basename(run.command[0]!));
  if (!name.ok) return name;

  const bucket = settings.remote.bucket;
  if (settings.uploadLogs && bucket === null) {
    return err("TASKRUNNER_UPLOAD_LOGS=1 needs TASKRUNNER_REMOTE_CACHE_BUCKET (the bucket the logs are uploaded to)");
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

  const stateDir = resolve(at.cwd, settings.stateDir);
  const localCache = settings.localCache;
  const local: LocalAccess | null =
    localCache === null ? null : { dir: resolve(at.cwd, localCache.dir), prefix: settings.remote.prefix, maxBytes: localCache.maxBytes };
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
  return ok({
    name: name.value,
    force: run.force,
    command: run.command,
    paths: taskPaths(stateDir, buildId, name.value),
    buildId,
    topLevel: nested === null,
    cwd: at.cwd,
    stateDir,
    env: at.env,
    toplevelStdout: at.stdoutFd,
    toplevelStderr: at.stderrFd,
    parent: at.parent,
    view: at.view,
    rehearse: at.rehearse,
    nesting: null,
    started: null,
    answer: null,
    settings,
    remote,
    local,
    remoteMisconfigured,
    commitStatus,
  });
}
