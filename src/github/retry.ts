// Retrying GitHub API calls: which failures are worth another attempt, and how long to keep
// trying. Bounded so an unreachable or hung API costs seconds, once per build (the caller turns
// statuses off for the rest of the build after a failure).

/** An API call that failed, as the caller needs to know it. */
export interface ApiFailure {
  /**
   * `unauthorized`: HTTP 401 (the token expired or was revoked); `transient`: 5xx, 408, 429, a
   * timeout or a connection error; `permanent`: anything else (403, 404, 422, a bad answer).
   */
  kind: "unauthorized" | "transient" | "permanent";
  /** A one-line reason for messages; never holds a token (octokit redacts request headers). */
  reason: string;
}

/** How often and how long to try. */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  attempts: number;
  /** Pause before the 2nd, 3rd... attempt. */
  backoffMs: number[];
  /** No attempt starts, and none runs, past this long after the first one started. */
  budgetMs: number;
}

/**
 * 3 attempts, 0.25 s and 0.75 s apart, all within twice the per-request timeout plus those
 * pauses (11 s with the default 5 s): two hung requests at most, each given the whole timeout.
 * A GitHub outage costs that, once per build.
 */
export function retryPolicy(timeoutMs: number): RetryPolicy {
  const backoffMs = [250, 750];
  return { attempts: 3, backoffMs, budgetMs: 2 * timeoutMs + backoffMs.reduce((a, b) => a + b, 0) };
}

// Below this, an attempt could not complete a round trip anyway.
const MIN_ATTEMPT_MS = 100;

/**
 * An answer that is not what the API documents (a body cut short reaches us as an empty one:
 * octokit swallows body read errors). Worth another attempt.
 */
export class UnexpectedAnswer extends Error {
  override readonly name = "UnexpectedAnswer";
}

/** Classifies an error thrown by octokit (a RequestError) or by our own code (pure). */
export function classify(e: unknown): ApiFailure {
  const error = e as { status?: unknown; response?: unknown; message?: unknown; name?: unknown };
  if (e instanceof UnexpectedAnswer) return { kind: "transient", reason: e.message };
  // octokit appends the documentation URL of the error (` - https://docs.github.com/...`).
  const message = typeof error.message === "string" ? error.message.split("\n")[0]!.replace(/ - https?:\/\/\S+$/, "").trim() : String(e);
  const status = typeof error.status === "number" ? error.status : null;
  // octokit reports a request that never got a response (refused, reset, timed out) as
  // status 500 without a response.
  if (status !== null && error.response === undefined) return { kind: "transient", reason: message || "no response" };
  // fetch's own failures, should one get past octokit.
  if (status === null && (error.name === "TimeoutError" || error.name === "AbortError")) return { kind: "transient", reason: message };
  if (status === null) return { kind: "permanent", reason: message };
  const reason = message === "" ? `HTTP ${status}` : `HTTP ${status}: ${message}`;
  if (status === 401) return { kind: "unauthorized", reason };
  if (status >= 500 || status === 408 || status === 429) return { kind: "transient", reason };
  return { kind: "permanent", reason };
}

/** What retrying needs from the outside world; tests pass a fake clock. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => Bun.sleep(ms) };

/**
 * Runs `op` until it succeeds, fails for good, or the policy is spent. `op` gets the time it may
 * take (the per-request timeout, cut to what is left of the budget). Transient failures are
 * retried; `unauthorized` and `permanent` ones are returned at once.
 */
export async function retrying<T>(
  op: (timeoutMs: number) => Promise<T>,
  timeoutMs: number,
  policy: RetryPolicy = retryPolicy(timeoutMs),
  onRetry: (failure: ApiFailure, attempt: number) => void = () => {},
  clock: Clock = realClock,
): Promise<{ ok: true; value: T } | { ok: false; error: ApiFailure; attempts: number }> {
  const start = clock.now();
  let attempt = 0;
  for (;;) {
    attempt++;
    const left = policy.budgetMs - (clock.now() - start);
    let failure: ApiFailure;
    try {
      return { ok: true, value: await op(Math.max(MIN_ATTEMPT_MS, Math.min(timeoutMs, left))) };
    } catch (e) {
      failure = classify(e);
    }
    const pause = policy.backoffMs[attempt - 1] ?? policy.backoffMs.at(-1) ?? 0;
    const nextLeft = policy.budgetMs - (clock.now() - start) - pause;
    if (failure.kind !== "transient" || attempt >= policy.attempts || nextLeft < MIN_ATTEMPT_MS) {
      return { ok: false, error: failure, attempts: attempt };
    }
    onRetry(failure, attempt);
    await clock.sleep(pause);
  }
}
