import { type Result, ok, err } from "./result.ts";
import { checkPrivateKey, normalisePrivateKey } from "./github/private-key.ts";
import { parseRepository } from "./github/repository.ts";
import { Secret } from "./github/secret.ts";

/** Everything the runner reads from its environment, parsed once. */
export interface Settings {
  stateDir: string;
  rootDir: string | null;
  timestamps: boolean;
  logInfo: boolean;
  debug: boolean;
  quiet: boolean;
  /** Seconds to wait for a task's stdout/stderr to close after it exits. */
  streamTimeoutSeconds: number;
  saveRemoteCache: boolean;
  uploadLogs: boolean;
  commitStatus: boolean;
  fallbackBranches: string[];
  mainBranch: string | null;
  primeCacheMode: boolean;
  githubTokenRefreshThresholdSeconds: number;
  /** Set when this invocation runs inside a build (it is then not top level). */
  nested: NestedContext | null;
  remote: RemoteSettings;
  /** The GitHub App and repository of commit statuses; set (and complete) only when `commitStatus` is on. */
  github: GithubSettings | null;
  /** The local output cache (TASKRUNNER_LOCAL_CACHE_DIR), or null when it is off. */
  localCache: LocalCacheSettings | null;
  /** TASKRUNNER_CACHE_SIGNING_KEY: archives are signed on upload and verified on restore; redacted wherever it could be printed. */
  signingKey: Secret | null;
  /** Off with TASKRUNNER_DISABLE_STAT_SHORTCUT=1: inputs are then always hashed by git. */
  statShortcut: boolean;
  /**
   * Off with TASKRUNNER_DISABLE_FAST_NESTING=1: nested `taskrunner` calls then start the
   * executable instead of being served by the build's top-level runner.
   */
  fastNesting: boolean;
  /**
   * Off with TASKRUNNER_DISABLE_EARLY_SNAPSHOT=1: a task's first `snapshot` call is then always
   * decided when its bash makes it, never read from the command before bash starts (task/early-snapshot.ts).
   */
  earlySnapshot: boolean;
  /**
   * Whether a top level whose stdout is a terminal may show the live view: not with TERM=dumb,
   * CI set (to anything but empty, 0 or false), NO_COLOR set (not empty), or
   * TASKRUNNER_DISABLE_LIVE_VIEW=1.
   */
  liveView: boolean;
}

/** The local output cache: a directory in the remote cache's layout, bounded in size. */
export interface LocalCacheSettings {
  /** The directory as given (relative paths are resolved against the working directory by main). */
  dir: string;
  /** TASKRUNNER_LOCAL_CACHE_MAX_SIZE in bytes. */
  maxBytes: number;
}

/** Commit-status settings (SPEC §7), read only with TASKRUNNER_ENABLE_COMMIT_STATUS=1. */
export interface GithubSettings {
  appId: string;
  installationId: string;
  /** The PEM text, newlines restored; redacted wherever it could be printed. */
  privateKey: Secret;
  owner: string;
  repo: string;
  /** GITHUB_API_URL without a trailing `/`. */
  apiUrl: string;
  /** Bound of one API request (TASKRUNNER_GITHUB_TIMEOUT); a call with retries takes at most twice this, plus 1 s. */
  timeoutSeconds: number;
}

/** Remote cache and log upload settings (SPEC §6); checked for completeness only when used. */
export interface RemoteSettings {
  /** `http(s)://host:port` of an S3-compatible store (path-style addressing), or null for AWS. */
  endpoint: string | null;
  region: string;
  /** Static credentials, or null to use the AWS SDK's standard credential chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  bucket: string | null;
  prefix: string;
  logsPrefix: string | null;
  logsViewUrl: string | null;
  /** Seconds to wait for a connection, and for each response to make progress. */
  timeoutSeconds: number;
}

/** What a nested invocation inherits from the build it belongs to. */
export interface NestedContext {
  buildId: string;
  /** Top-level output descriptors, or null where the variable is missing (then fds 1 and 2 are used). */
  stdoutFd: number | null;
  stderrFd: number | null;
  /** The parent task's request pipe, used to tell the parent about this subtask; null if absent. */
  parentRequestFd: number | null;
}

type Env = Record<string, string | undefined>;

// Values a boolean switch accepts. The reference implementation only knew "1"; the others are
// accepted because scripts write them, and anything else is an error rather than a silent "off".
const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["", "0", "false", "no", "off"]);

function flag(env: Env, name: string): Result<boolean> {
  const raw = env[name];
  if (raw === undefined) return ok(false);
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return ok(true);
  if (FALSE.has(v)) return ok(false);
  return err(`${name} must be 1 (on) or 0 (off), got ${JSON.stringify(raw)}`);
}

function seconds(env: Env, name: string, fallback: number, integer: boolean): Result<number> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return ok(fallback);
  const pattern = integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  if (!pattern.test(raw.trim())) {
    const kind = integer ? "a whole number of seconds" : "a number of seconds";
    return err(`${name} must be ${kind} (like ${fallback}), got ${JSON.stringify(raw)}`);
  }
  return ok(Number(raw.trim()));
}

function descriptor(env: Env, name: string): Result<number | null> {
  const raw = env[name];
  if (raw === undefined || raw === "") return ok(null);
  if (!/^\d+$/.test(raw)) return err(`${name} must be a file descriptor number, got ${JSON.stringify(raw)}`);
  return ok(Number(raw));
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
/** Default TASKRUNNER_LOCAL_CACHE_MAX_SIZE: a few builds' worth of outputs on a developer's disk. */
export const DEFAULT_LOCAL_CACHE_MAX_BYTES = 5 * 1024 ** 3;

/**
 * A size in bytes: digits with an optional K, M, G or T suffix (binary multiples; `KB`, `KiB`
 * and a trailing `B` are accepted too). Null if malformed.
 */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? m[3] ?? "").toLowerCase();
  return Math.floor(Number(m[1]) * SIZE_UNITS[unit]!);
}

function readLocalCache(env: Env): Result<LocalCacheSettings | null> {
  // Parsed even when the cache is off: a malformed value is an error either way.
  const raw = env.TASKRUNNER_LOCAL_CACHE_MAX_SIZE;
  let maxBytes = DEFAULT_LOCAL_CACHE_MAX_BYTES;
  if (raw !== undefined && raw.trim() !== "") {
    const parsed = parseSize(raw);
    if (parsed === null) return err(`TASKRUNNER_LOCAL_CACHE_MAX_SIZE must be a size in bytes, optionally with a K, M or G suffix (like 5G), got ${JSON.stringify(raw)}`);
    maxBytes = parsed;
  }
  const dir = nonEmpty(env, "TASKRUNNER_LOCAL_CACHE_DIR");
  return ok(dir === null ? null : { dir, maxBytes });
}

function nonEmpty(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v === "" ? null : v;
}

/** Parses the environment; the first malformed value is the error. */
export function readSettings(env: Env): Result<Settings> {
  const flags = {
    timestampsOff: flag(env, "TASKRUNNER_DISABLE_TIMESTAMPS"),
    logInfo: flag(env, "TASKRUNNER_LOG_INFO"),
    debug: flag(env, "TASKRUNNER_DEBUG"),
    quiet: flag(env, "TASKRUNNER_QUIET"),
    saveRemoteCache: flag(env, "TASKRUNNER_SAVE_REMOTE_CACHE"),
    uploadLogs: flag(env, "TASKRUNNER_UPLOAD_LOGS"),
    commitStatus: flag(env, "TASKRUNNER_ENABLE_COMMIT_STATUS"),
    primeCacheMode: flag(env, "TASKRUNNER_PRIME_CACHE_MODE"),
    statShortcutOff: flag(env, "TASKRUNNER_DISABLE_STAT_SHORTCUT"),
    fastNestingOff: flag(env, "TASKRUNNER_DISABLE_FAST_NESTING"),
    earlySnapshotOff: flag(env, "TASKRUNNER_DISABLE_EARLY_SNAPSHOT"),
    liveViewOff: flag(env, "TASKRUNNER_DISABLE_LIVE_VIEW"),
  };
  for (const r of Object.values(flags)) if (!r.ok) return r;
  const get = (r: Result<boolean>) => (r.ok ? r.value : false);

  const timeout = seconds(env, "TASKRUNNER_OUTPUT_STREAM_TIMEOUT", 5, false);
  if (!timeout.ok) return timeout;
  const threshold = seconds(env, "TASKRUNNER_GITHUB_TOKEN_REFRESH_THRESHOLD_SECONDS", 300, true);
  if (!threshold.ok) return threshold;

  let nested: NestedContext | null = null;
  const buildId = nonEmpty(env, "_taskrunner_build_id");
  if (buildId !== null) {
    const out = descriptor(env, "_taskrunner_toplevel_stdout");
    if (!out.ok) return out;
    const errFd = descriptor(env, "_taskrunner_toplevel_stderr");
    if (!errFd.ok) return errFd;
    const req = descriptor(env, "_taskrunner_request_pipe");
    if (!req.ok) return req;
    nested = { buildId, stdoutFd: out.value, stderrFd: errFd.value, parentRequestFd: req.value };
  }

  const remote = readRemote(env);
  if (!remote.ok) return remote;
  const github = readGithub(env, get(flags.commitStatus));
  if (!github.ok) return github;
  const localCache = readLocalCache(env);
  if (!localCache.ok) return localCache;
  const signingKey = nonEmpty(env, "TASKRUNNER_CACHE_SIGNING_KEY");

  return ok({
    remote: remote.value,
    github: github.value,
    localCache: localCache.value,
    signingKey: signingKey === null ? null : new Secret(signingKey),
    stateDir: nonEmpty(env, "TASKRUNNER_STATE_DIRECTORY") ?? "/tmp/taskrunner",
    rootDir: nonEmpty(env, "TASKRUNNER_ROOT_DIRECTORY"),
    timestamps: !get(flags.timestampsOff),
    logInfo: get(flags.logInfo),
    debug: get(flags.debug),
    quiet: get(flags.quiet),
    streamTimeoutSeconds: timeout.value,
    saveRemoteCache: get(flags.saveRemoteCache),
    uploadLogs: get(flags.uploadLogs),
    commitStatus: get(flags.commitStatus),
    fallbackBranches: (env.TASKRUNNER_FALLBACK_BRANCHES ?? "").split(/\s+/).filter((b) => b !== ""),
    mainBranch: nonEmpty(env, "TASKRUNNER_MAIN_BRANCH"),
    primeCacheMode: get(flags.primeCacheMode),
    statShortcut: !get(flags.statShortcutOff),
    fastNesting: !get(flags.fastNestingOff),
    earlySnapshot: !get(flags.earlySnapshotOff),
    liveView: !get(flags.liveViewOff) && env.TERM !== "dumb" && FALSE.has((env.CI ?? "").trim().toLowerCase()) && nonEmpty(env, "NO_COLOR") === null,
    githubTokenRefreshThresholdSeconds: threshold.value,
    nested,
  });
}

function readRemote(env: Env): Result<RemoteSettings> {
  const endpoint = nonEmpty(env, "TASKRUNNER_S3_ENDPOINT");
  if (endpoint !== null && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    return err(`TASKRUNNER_S3_ENDPOINT must be a URL like http://localhost:9000, got ${JSON.stringify(endpoint)}`);
  }
  const key = nonEmpty(env, "TASKRUNNER_AWS_ACCESS_KEY");
  const secret = nonEmpty(env, "TASKRUNNER_AWS_SECRET_KEY");
  // Half a key pair is a mistake, not a request for the default credential chain.
  if ((key === null) !== (secret === null)) {
    const missing = key === null ? "TASKRUNNER_AWS_ACCESS_KEY" : "TASKRUNNER_AWS_SECRET_KEY";
    const other = key === null ? "TASKRUNNER_AWS_SECRET_KEY" : "TASKRUNNER_AWS_ACCESS_KEY";
    return err(`${missing} is not set but ${other} is; set both, or neither to use the standard AWS credential chain`);
  }
  const timeout = seconds(env, "TASKRUNNER_REMOTE_CACHE_TIMEOUT", 5, false);
  if (!timeout.ok) return timeout;
  return ok({
    timeoutSeconds: timeout.value,
    endpoint,
    region: nonEmpty(env, "TASKRUNNER_AWS_REGION") ?? "eu-central-1",
    credentials: key !== null && secret !== null ? { accessKeyId: key, secretAccessKey: secret } : null,
    bucket: nonEmpty(env, "TASKRUNNER_REMOTE_CACHE_BUCKET"),
    prefix: env.TASKRUNNER_REMOTE_CACHE_PREFIX ?? "taskrunner/",
    logsPrefix: env.TASKRUNNER_LOGS_PREFIX ?? null,
    logsViewUrl: env.TASKRUNNER_LOGS_VIEW_URL ?? null,
  });
}

// What each variable is, for the error that names the missing ones.
const GITHUB_REQUIRED = [
  ["GITHUB_APP_ID", "the GitHub App's id"],
  ["GITHUB_INSTALLATION_ID", "the id of the app's installation on the repository's owner"],
  ["GITHUB_APP_PRIVATE_KEY", "the app's private key, PEM, with real newlines or | for each newline"],
  ["GITHUB_REPOSITORY_OWNER", "the repository's owner"],
  ["GITHUB_REPOSITORY", "the repository, name or owner/name"],
] as const;

function readGithub(env: Env, enabled: boolean): Result<GithubSettings | null> {
  // Parsed even when statuses are off: a malformed value is an error either way.
  const timeout = seconds(env, "TASKRUNNER_GITHUB_TIMEOUT", 5, false);
  if (!timeout.ok) return timeout;
  if (timeout.value === 0) return err(`TASKRUNNER_GITHUB_TIMEOUT must be more than 0 seconds (like 5), got ${JSON.stringify(env.TASKRUNNER_GITHUB_TIMEOUT)}`);
  if (!enabled) return ok(null);
  const missing = GITHUB_REQUIRED.filter(([name]) => (env[name] ?? "").trim() === "");
  if (missing.length > 0) {
    const list = missing.map(([name, what]) => `${name} (${what})`).join(", ");
    const them = missing.length === 1 ? "it" : "them";
    return err(`TASKRUNNER_ENABLE_COMMIT_STATUS=1 needs ${list} to post commit statuses; set ${them}, or unset TASKRUNNER_ENABLE_COMMIT_STATUS`);
  }
  const value = (name: string) => (env[name] ?? "").trim();
  const appId = value("GITHUB_APP_ID");
  if (/\s|\//.test(appId)) return err(`GITHUB_APP_ID must be the app's id (a number, or its client id), got ${JSON.stringify(appId)}`);
  const installationId = value("GITHUB_INSTALLATION_ID");
  if (!/^\d+$/.test(installationId)) return err(`GITHUB_INSTALLATION_ID must be a number, got ${JSON.stringify(installationId)}`);
  const key = checkPrivateKey(normalisePrivateKey(env.GITHUB_APP_PRIVATE_KEY ?? ""));
  if (!key.ok) return key;
  const repository = parseRepository(value("GITHUB_REPOSITORY"), value("GITHUB_REPOSITORY_OWNER"));
  if (!repository.ok) return repository;
  const apiUrl = (nonEmpty(env, "GITHUB_API_URL") ?? "https://api.github.com").trim().replace(/\/+$/, "");
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(apiUrl)) {
    return err(`GITHUB_API_URL must be a URL like https://api.github.com (or https://HOST/api/v3 for GitHub Enterprise), got ${JSON.stringify(apiUrl)}`);
  }
  return ok({
    appId,
    installationId,
    privateKey: new Secret(key.value),
    owner: repository.value.owner,
    repo: repository.value.repo,
    apiUrl,
    timeoutSeconds: timeout.value,
  });
}
