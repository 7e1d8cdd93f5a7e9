import { test, expect } from "bun:test";
import { readSettings } from "../../src/settings.ts";

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
  [{ _taskrunner_build_id: "b", _taskrunner_toplevel_stdout: "x" }, '_taskrunner_toplevel_stdout must be a file descriptor number, got "x"'],
];

test.each(errors)("%j is an error", (env, message) => {
  expect(readSettings(env)).toEqual({ ok: false, error: message });
});
