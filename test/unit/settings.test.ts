import { test, expect } from "bun:test";
import { readSettings, parseSize } from "../../src/settings.ts";

test("defaults", () => {
  const r = readSettings({});
  expect(r).toEqual({
    ok: true,
    value: {
      stateDir: "/tmp/taskrunner",
      rootDir: null,
      timestamps: true,
      logInfo: false,
      debug: false,
      quiet: false,
      streamTimeoutSeconds: 5,
      saveRemoteCache: false,
      uploadLogs: false,
      commitStatus: false,
      fallbackBranches: [],
      mainBranch: null,
      primeCacheMode: false,
      statShortcut: true,
      fastNesting: true,
      earlySnapshot: true,
      liveView: true,
      githubTokenRefreshThresholdSeconds: 300,
      nested: null,
      remote: {
        endpoint: null,
        region: "eu-central-1",
        credentials: null,
        bucket: null,
        prefix: "taskrunner/",
        logsPrefix: null,
        logsViewUrl: null,
        timeoutSeconds: 5,
      },
      github: null,
      localCache: null,
      signingKey: null,
    },
  });
});

const values: [Record<string, string>, string, unknown][] = [
  [{ TASKRUNNER_DISABLE_TIMESTAMPS: "1" }, "timestamps", false],
  [{ TASKRUNNER_DISABLE_TIMESTAMPS: "0" }, "timestamps", true],
  [{ TASKRUNNER_DISABLE_TIMESTAMPS: "" }, "timestamps", true],
  [{ TASKRUNNER_LOG_INFO: "true" }, "logInfo", true],
  [{ TASKRUNNER_DEBUG: " 1 " }, "debug", true],
  [{ TASKRUNNER_QUIET: "no" }, "quiet", false],
  [{ TASKRUNNER_OUTPUT_STREAM_TIMEOUT: "0.5" }, "streamTimeoutSeconds", 0.5],
  [{ TASKRUNNER_OUTPUT_STREAM_TIMEOUT: "0" }, "streamTimeoutSeconds", 0],
  [{ TASKRUNNER_OUTPUT_STREAM_TIMEOUT: "" }, "streamTimeoutSeconds", 5],
  [{ TASKRUNNER_STATE_DIRECTORY: "/s" }, "stateDir", "/s"],
  [{ TASKRUNNER_STATE_DIRECTORY: "" }, "stateDir", "/tmp/taskrunner"],
  [{ TASKRUNNER_FALLBACK_BRANCHES: " main  dev\tx " }, "fallbackBranches", ["main", "dev", "x"]],
  [{ TASKRUNNER_MAIN_BRANCH: "main" }, "mainBranch", "main"],
  [{ TASKRUNNER_LOCAL_CACHE_DIR: "/c" }, "localCache", { dir: "/c", maxBytes: 5 * 1024 ** 3 }],
  [{ TASKRUNNER_LOCAL_CACHE_DIR: "c", TASKRUNNER_LOCAL_CACHE_MAX_SIZE: "10M" }, "localCache", { dir: "c", maxBytes: 10 * 1024 ** 2 }],
  [{ TASKRUNNER_LOCAL_CACHE_DIR: "/c", TASKRUNNER_LOCAL_CACHE_MAX_SIZE: "" }, "localCache", { dir: "/c", maxBytes: 5 * 1024 ** 3 }],
  [{ TASKRUNNER_LOCAL_CACHE_DIR: "" }, "localCache", null],
  [{ TASKRUNNER_LOCAL_CACHE_MAX_SIZE: "1G" }, "localCache", null],
  [{ TASKRUNNER_CACHE_SIGNING_KEY: "" }, "signingKey", null],
  [{ TASKRUNNER_GITHUB_TOKEN_REFRESH_THRESHOLD_SECONDS: "60" }, "githubTokenRefreshThresholdSeconds", 60],
  [{ _taskrunner_build_id: "b" }, "nested", { buildId: "b", stdoutFd: null, stderrFd: null, parentRequestFd: null }],
  [
    { _taskrunner_build_id: "b", _taskrunner_toplevel_stdout: "3", _taskrunner_toplevel_stderr: "4", _taskrunner_request_pipe: "5" },
    "nested",
    { buildId: "b", stdoutFd: 3, stderrFd: 4, parentRequestFd: 5 },
  ],
];

const remote: [Record<string, string>, string, unknown][] = [
  [{ TASKRUNNER_S3_ENDPOINT: "http://127.0.0.1:9000" }, "endpoint", "http://127.0.0.1:9000"],
  [{ TASKRUNNER_AWS_REGION: "us-east-1" }, "region", "us-east-1"],
  [{ TASKRUNNER_AWS_ACCESS_KEY: "k", TASKRUNNER_AWS_SECRET_KEY: "s" }, "credentials", { accessKeyId: "k", secretAccessKey: "s" }],
  [{ TASKRUNNER_REMOTE_CACHE_BUCKET: "b" }, "bucket", "b"],
  [{ TASKRUNNER_REMOTE_CACHE_PREFIX: "" }, "prefix", ""],
  [{ TASKRUNNER_REMOTE_CACHE_PREFIX: "team/" }, "prefix", "team/"],
  [{ TASKRUNNER_LOGS_PREFIX: "logs/" }, "logsPrefix", "logs/"],
  [{ TASKRUNNER_LOGS_VIEW_URL: "https://x/" }, "logsViewUrl", "https://x/"],
  [{ TASKRUNNER_REMOTE_CACHE_TIMEOUT: "1.5" }, "timeoutSeconds", 1.5],
];

test.each(remote)("%j sets remote.%s", (env, key, expected) => {
  const r = readSettings(env);
  if (!r.ok) throw new Error(r.error);
  expect((r.value.remote as unknown as Record<string, unknown>)[key]).toEqual(expected);
});

test.each(values)("%j sets %s", (env, key, expected) => {
  const r = readSettings(env);
  if (!r.ok) throw new Error(r.error);
  expect((r.value as unknown as Record<string, unknown>)[key]).toEqual(expected);
});

const errors: [Record<string, string>, string][] = [
  [{ TASKRUNNER_OUTPUT_STREAM_TIMEOUT: "five" }, 'TASKRUNNER_OUTPUT_STREAM_TIMEOUT must be a number of seconds (like 5), got "five"'],
  [{ TASKRUNNER_OUTPUT_STREAM_TIMEOUT: "-1" }, 'TASKRUNNER_OUTPUT_STREAM_TIMEOUT must be a number of seconds (like 5), got "-1"'],
  [{ TASKRUNNER_GITHUB_TOKEN_REFRESH_THRESHOLD_SECONDS: "1.5" }, 'TASKRUNNER_GITHUB_TOKEN_REFRESH_THRESHOLD_SECONDS must be a whole number of seconds (like 300), got "1.5"'],
  [{ TASKRUNNER_QUIET: "maybe" }, 'TASKRUNNER_QUIET must be 1 (on) or 0 (off), got "maybe"'],
  [{ TASKRUNNER_DEBUG: "2" }, 'TASKRUNNER_DEBUG must be 1 (on) or 0 (off), got "2"'],
  [{ TASKRUNNER_S3_ENDPOINT: "localhost:9000" }, 'TASKRUNNER_S3_ENDPOINT must be a URL like http://localhost:9000, got "localhost:9000"'],
  [{ TASKRUNNER_AWS_ACCESS_KEY: "k" }, "TASKRUNNER_AWS_SECRET_KEY is not set but TASKRUNNER_AWS_ACCESS_KEY is; set both, or neither to use the standard AWS credential chain"],
  [{ TASKRUNNER_AWS_SECRET_KEY: "s" }, "TASKRUNNER_AWS_ACCESS_KEY is not set but TASKRUNNER_AWS_SECRET_KEY is; set both, or neither to use the standard AWS credential chain"],
  [{ TASKRUNNER_LOCAL_CACHE_DIR: "/c", TASKRUNNER_LOCAL_CACHE_MAX_SIZE: "lots" }, 'TASKRUNNER_LOCAL_CACHE_MAX_SIZE must be a size in bytes, optionally with a K, M or G suffix (like 5G), got "lots"'],
  [{ TASKRUNNER_LOCAL_CACHE_MAX_SIZE: "-1K" }, 'TASKRUNNER_LOCAL_CACHE_MAX_SIZE must be a size in bytes, optionally with a K, M or G suffix (like 5G), got "-1K"'],
  [{ _taskrunner_build_id: "b", _taskrunner_toplevel_stdout: "x" }, '_taskrunner_toplevel_stdout must be a file descriptor number, got "x"'],
];

test.each(errors)("%j is an error", (env, message) => {
  expect(readSettings(env)).toEqual({ ok: false, error: message });
});

const sizes: [string, number | null][] = [
  ["0", 0],
  ["1234", 1234],
  ["512B", 512],
  ["1k", 1024],
  ["1K", 1024],
  ["1KB", 1024],
  ["1KiB", 1024],
  ["10M", 10 * 1024 ** 2],
  ["5G", 5 * 1024 ** 3],
  [" 2 G ", 2 * 1024 ** 3],
  ["1.5M", 1.5 * 1024 ** 2],
  ["1T", 1024 ** 4],
  ["", null],
  ["G", null],
  ["5X", null],
  ["5 GB extra", null],
  ["-5", null],
  ["1e9", null],
];

test.each(sizes)("size %j is %p bytes", (text, bytes) => {
  expect(parseSize(text)).toBe(bytes);
});

test("the signing key is kept, redacted", () => {
  const r = readSettings({ TASKRUNNER_CACHE_SIGNING_KEY: "s3cr3t-key" });
  if (!r.ok) throw new Error(r.error);
  expect(r.value.signingKey?.reveal()).toBe("s3cr3t-key");
  expect(JSON.stringify(r.value)).not.toContain("s3cr3t");
  expect(String(r.value.signingKey)).toBe("[redacted]");
});

// Commit statuses (SPEC §7): the GitHub settings are read, and required, only when enabled.
const KEY = (await import("node:crypto")).generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const GITHUB: Record<string, string> = {
  TASKRUNNER_ENABLE_COMMIT_STATUS: "1",
  GITHUB_APP_ID: "4242",
  GITHUB_INSTALLATION_ID: "123",
  GITHUB_APP_PRIVATE_KEY: KEY,
  GITHUB_REPOSITORY_OWNER: "o",
  GITHUB_REPOSITORY: "o/r",
};

test("commit statuses off: no GitHub settings needed, none read", () => {
  const r = readSettings({ GITHUB_APP_ID: "x", GITHUB_APP_PRIVATE_KEY: "not a key" });
  expect(r.ok && r.value.github).toBeNull();
});

const github: [string, Record<string, string | undefined>, string, unknown][] = [
  ["app id", {}, "appId", "4242"],
  ["installation id", {}, "installationId", "123"],
  ["owner", {}, "owner", "o"],
  ["owner/name gives the name", {}, "repo", "r"],
  ["a bare name", { GITHUB_REPOSITORY: "r" }, "repo", "r"],
  ["default API", {}, "apiUrl", "https://api.github.com"],
  ["empty API URL: the default", { GITHUB_API_URL: "" }, "apiUrl", "https://api.github.com"],
  ["GitHub Enterprise, trailing / dropped", { GITHUB_API_URL: "https://ghe.example/api/v3/" }, "apiUrl", "https://ghe.example/api/v3"],
  ["default timeout", {}, "timeoutSeconds", 5],
  ["timeout", { TASKRUNNER_GITHUB_TIMEOUT: "0.5" }, "timeoutSeconds", 0.5],
  ["surrounding blanks dropped", { GITHUB_APP_ID: " 4242\n" }, "appId", "4242"],
];

test.each(github)("GitHub settings: %s", (_, extra, key, expected) => {
  const r = readSettings({ ...GITHUB, ...extra });
  if (!r.ok) throw new Error(r.error);
  expect((r.value.github as unknown as Record<string, unknown>)[key]).toEqual(expected);
});

test.each([
  ["real newlines", KEY],
  ["| for each newline", KEY.trim().replaceAll("\n", "|")],
])("the private key with %s is kept as PEM, redacted", (_, raw) => {
  const r = readSettings({ ...GITHUB, GITHUB_APP_PRIVATE_KEY: raw });
  if (!r.ok) throw new Error(r.error);
  expect(r.value.github?.privateKey.reveal()).toBe(KEY);
  expect(JSON.stringify(r.value)).not.toContain(KEY.split("\n")[1]!);
});

const NEEDS = "TASKRUNNER_ENABLE_COMMIT_STATUS=1 needs";
const UNSET = "to post commit statuses; set it, or unset TASKRUNNER_ENABLE_COMMIT_STATUS";
const githubErrors: [Record<string, string | undefined>, string][] = [
  [{ GITHUB_APP_ID: undefined }, `${NEEDS} GITHUB_APP_ID (the GitHub App's id) ${UNSET}`],
  [{ GITHUB_INSTALLATION_ID: "" }, `${NEEDS} GITHUB_INSTALLATION_ID (the id of the app's installation on the repository's owner) ${UNSET}`],
  [{ GITHUB_APP_PRIVATE_KEY: " " }, `${NEEDS} GITHUB_APP_PRIVATE_KEY (the app's private key, PEM, with real newlines or | for each newline) ${UNSET}`],
  [{ GITHUB_REPOSITORY_OWNER: undefined }, `${NEEDS} GITHUB_REPOSITORY_OWNER (the repository's owner) ${UNSET}`],
  [{ GITHUB_REPOSITORY: undefined }, `${NEEDS} GITHUB_REPOSITORY (the repository, name or owner/name) ${UNSET}`],
  [
    { GITHUB_APP_ID: undefined, GITHUB_REPOSITORY: undefined },
    `${NEEDS} GITHUB_APP_ID (the GitHub App's id), GITHUB_REPOSITORY (the repository, name or owner/name) to post commit statuses; set them, or unset TASKRUNNER_ENABLE_COMMIT_STATUS`,
  ],
  [{ GITHUB_APP_ID: "12 34" }, 'GITHUB_APP_ID must be the app\'s id (a number, or its client id), got "12 34"'],
  [{ GITHUB_INSTALLATION_ID: "12/../x" }, 'GITHUB_INSTALLATION_ID must be a number, got "12/../x"'],
  [{ GITHUB_REPOSITORY: "x/r" }, 'GITHUB_REPOSITORY is "x/r" but GITHUB_REPOSITORY_OWNER is "o"; make them name the same owner (or give GITHUB_REPOSITORY as a bare name)'],
  [{ GITHUB_API_URL: "api.github.com" }, 'GITHUB_API_URL must be a URL like https://api.github.com (or https://HOST/api/v3 for GitHub Enterprise), got "api.github.com"'],
  [{ TASKRUNNER_GITHUB_TIMEOUT: "0" }, 'TASKRUNNER_GITHUB_TIMEOUT must be more than 0 seconds (like 5), got "0"'],
  [{ TASKRUNNER_GITHUB_TIMEOUT: "x", TASKRUNNER_ENABLE_COMMIT_STATUS: "0" }, 'TASKRUNNER_GITHUB_TIMEOUT must be a number of seconds (like 5), got "x"'],
  [{ TASKRUNNER_ENABLE_COMMIT_STATUS: "2" }, 'TASKRUNNER_ENABLE_COMMIT_STATUS must be 1 (on) or 0 (off), got "2"'],
];

test.each(githubErrors)("GitHub settings %j are an error", (extra, message) => {
  const env: Record<string, string | undefined> = { ...GITHUB, ...extra };
  expect(readSettings(env)).toEqual({ ok: false, error: message });
});

test("a malformed private key is an error that does not quote it", () => {
  const broken = KEY.replace(/\n[A-Za-z0-9+/]{8}/, "\n########");
  const r = readSettings({ ...GITHUB, GITHUB_APP_PRIVATE_KEY: broken });
  if (r.ok) throw new Error("accepted");
  expect(r.error).toStartWith("GITHUB_APP_PRIVATE_KEY could not be read as an RSA private key (");
  expect(r.error).not.toContain(broken.split("\n")[2]!);
});
