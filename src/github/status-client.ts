import { Octokit } from "@octokit/rest";
import { type Result, ok, err } from "../result.ts";
import { appJwt } from "./jwt.ts";
import { InstallationTokens, type IssuedToken } from "./installation-token.ts";
import { retrying, UnexpectedAnswer, type ApiFailure } from "./retry.ts";
import { tokenScope } from "./token-cache.ts";
import type { Secret } from "./secret.ts";

// The GitHub API side of commit statuses (SPEC §7). Loaded with `await import()` only when
// TASKRUNNER_ENABLE_COMMIT_STATUS=1, so octokit stays off the no-op path.

type Say = (level: "info" | "warn" | "error" | "debug", text: string) => void;

/** A commit status's state as this runner posts it. */
export type StatusState = "pending" | "success" | "failure";

/** The body of a status post, in the order SPEC §7 lists it. */
export interface StatusBody {
  context: string;
  description: string | null;
  state: StatusState;
  target_url: string | null;
}

/** Posting and reading the statuses of one repository; failures are one-line reasons. */
export interface StatusApi {
  /** Makes sure the token cache holds a fresh installation token. */
  prepare(): Promise<Result<void, string>>;
  post(sha: string, body: StatusBody): Promise<Result<void, string>>;
  /** Whether the commit has a status with this context. */
  exists(sha: string, context: string): Promise<Result<boolean, string>>;
}

/** Everything the client needs: the app, the repository, the token cache and the bounds. */
export interface StatusClientOptions {
  apiUrl: string;
  owner: string;
  repo: string;
  appId: string;
  installationId: string;
  privateKey: Secret;
  /** `<state>/.github-token-cache.json`. */
  cachePath: string;
  thresholdSeconds: number;
  /** Bound of one request; a call with its retries takes at most twice this, plus 1 s. */
  timeoutSeconds: number;
  userAgent: string;
  say: Say;
}

/** The exact `warn` line of a forced refresh (SPEC §7). */
export const RETRY_401_WARNING = "GitHub API returned 401, force-refreshing token and retrying...";

// A commit has at most 1000 statuses per context, and many contexts: read at most this many
// pages of 100 before giving up the search.
const PER_PAGE = 100;
const MAX_PAGES = 10;

/** Makes the client. */
export function openStatusClient(opts: StatusClientOptions): StatusApi {
  const timeoutMs = opts.timeoutSeconds * 1000;
  const octokit = new Octokit({
    baseUrl: opts.apiUrl,
    userAgent: opts.userAgent,
    // octokit logs failed requests to the console by default; the runner prints only through
    // the task's output, and says what matters itself.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  // Bun's fetch is bounded by an abort signal; a fresh one per attempt, since
  // AbortSignal.timeout starts counting when it is made.
  const bounded = (ms: number) => ({ fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(ms) }) });
  const onRetry = (what: string) => (failure: ApiFailure, attempt: number) =>
    opts.say("debug", `GitHub: ${what} failed (${failure.reason}), attempt ${attempt}; retrying`);

  const issue = async (): Promise<Result<IssuedToken, ApiFailure>> => {
    const r = await retrying(async (ms) => {
      // A new JWT per attempt: it is cheap, and one made before a long wait could expire.
      const jwt = appJwt(opts.appId, opts.privateKey.reveal(), Date.now() / 1000);
      const res = await octokit.request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: Number(opts.installationId),
        headers: { authorization: `Bearer ${jwt}` },
        request: bounded(ms),
      });
      const expiresAt = new Date(res.data.expires_at);
      if (typeof res.data.token !== "string" || res.data.token === "" || Number.isNaN(expiresAt.getTime())) {
        throw new UnexpectedAnswer("the token response has no token or no valid expires_at");
      }
      return { token: res.data.token, expiresAt };
    }, timeoutMs, undefined, onRetry("requesting an installation token"));
    if (r.ok) return r;
    const hint = r.error.kind === "unauthorized" ? " (check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY)" : "";
    // A refused JWT is not a token to refresh: to the caller it is a permanent failure.
    return err({ kind: r.error.kind === "transient" ? "transient" : "permanent", reason: `requesting an installation token: ${r.error.reason}${attempts(r.attempts)}${hint}` });
  };

  const tokens = new InstallationTokens({
    cachePath: opts.cachePath,
    scope: tokenScope(opts.apiUrl, opts.installationId),
    thresholdSeconds: opts.thresholdSeconds,
    issue,
    say: opts.say,
  });

  /** Runs an API operation with a token: transient failures retried, one forced refresh on 401. */
  const call = async <T>(what: string, op: (token: string, ms: number) => Promise<T>): Promise<Result<T, string>> => {
    const token = await tokens.get();
    if (!token.ok) return err(token.error.reason);
    let r = await retrying((ms) => op(token.value, ms), timeoutMs, undefined, onRetry(what));
    if (!r.ok && r.error.kind === "unauthorized") {
      opts.say("warn", RETRY_401_WARNING);
      const fresh = await tokens.replace(token.value);
      if (!fresh.ok) return err(fresh.error.reason);
      r = await retrying((ms) => op(fresh.value, ms), timeoutMs, undefined, onRetry(what));
    }
    if (r.ok) return ok(r.value);
    return err(`${what}: ${r.error.reason}${attempts(r.attempts)}`);
  };
  const auth = (token: string) => ({ authorization: `token ${token}` });
  const { owner, repo } = opts;

  return {
    async prepare() {
      const token = await tokens.get();
      return token.ok ? ok(undefined) : err(token.error.reason);
    },

    async post(sha, body) {
      return call(`posting the ${body.state} status of ${body.context}`, async (token, ms) => {
        await octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
          owner,
          repo,
          sha,
          // The body is the remaining parameters, in this order.
          context: body.context,
          description: body.description,
          state: body.state,
          target_url: body.target_url,
          headers: auth(token),
          request: bounded(ms),
        });
      });
    },

    async exists(sha, context) {
      return call(`reading the statuses of ${sha.slice(0, 12)}`, async (token, ms) => {
        for (let page = 1; page <= MAX_PAGES; page++) {
          const res = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/statuses", {
            owner,
            repo,
            ref: sha,
            per_page: PER_PAGE,
            page,
            headers: auth(token),
            request: bounded(ms),
          });
          if (!Array.isArray(res.data)) throw new UnexpectedAnswer("the list of statuses is not a list");
          if (res.data.some((s) => s.context === context)) return true;
          if (res.data.length < PER_PAGE) return false;
        }
        return false;
      });
    },
  };
}

const attempts = (n: number) => (n > 1 ? ` (after ${n} attempts)` : "");
