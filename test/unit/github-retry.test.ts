// Which API failures are retried, and how long retrying may take.
import { test, expect } from "bun:test";
import { classify, retrying, retryPolicy, UnexpectedAnswer, type ApiFailure, type Clock } from "../../src/github/retry.ts";

/** An error shaped like octokit's RequestError. */
const httpError = (status: number, message: string) => Object.assign(new Error(message), { status, response: { status } });
/** octokit's shape for a request that got no response (refused, timed out). */
const noResponse = (message: string) => Object.assign(new Error(message), { status: 500 });

const errors: [string, unknown, ApiFailure][] = [
  ["401", httpError(401, "Bad credentials - https://docs.github.com/rest"), { kind: "unauthorized", reason: "HTTP 401: Bad credentials" }],
  ["500", httpError(500, "Server Error"), { kind: "transient", reason: "HTTP 500: Server Error" }],
  ["502 without a message", httpError(502, ""), { kind: "transient", reason: "HTTP 502" }],
  ["503", httpError(503, "Unavailable"), { kind: "transient", reason: "HTTP 503: Unavailable" }],
  ["429", httpError(429, "Too many"), { kind: "transient", reason: "HTTP 429: Too many" }],
  ["408", httpError(408, "Timeout"), { kind: "transient", reason: "HTTP 408: Timeout" }],
  ["403", httpError(403, "Resource not accessible by integration"), { kind: "permanent", reason: "HTTP 403: Resource not accessible by integration" }],
  ["404", httpError(404, "Not Found"), { kind: "permanent", reason: "HTTP 404: Not Found" }],
  ["422", httpError(422, "Validation Failed"), { kind: "permanent", reason: "HTTP 422: Validation Failed" }],
  ["a timeout", noResponse("The operation timed out."), { kind: "transient", reason: "The operation timed out." }],
  ["a refused connection", noResponse("ECONNREFUSED: Unable to connect."), { kind: "transient", reason: "ECONNREFUSED: Unable to connect." }],
  ["fetch's own timeout", Object.assign(new Error("The operation timed out."), { name: "TimeoutError" }), { kind: "transient", reason: "The operation timed out." }],
  ["an answer cut short", new UnexpectedAnswer("the token response has no token"), { kind: "transient", reason: "the token response has no token" }],
  ["a bug", new TypeError("x is not a function"), { kind: "permanent", reason: "x is not a function" }],
];

test.each(errors)("classify: %s", (_, e, expected) => {
  expect(classify(e)).toEqual(expected);
});

/** A clock that only moves when slept on or when an attempt "takes" time. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  };
  return { clock, sleeps, advance: (ms: number) => (t += ms) };
}

test("transient failures are retried twice, 0.25 s then 0.75 s apart", async () => {
  const { clock, sleeps } = fakeClock();
  let calls = 0;
  const r = await retrying(async () => { calls++; throw httpError(500, "x"); }, 5000, retryPolicy(5000), () => {}, clock);
  expect(r).toEqual({ ok: false, error: { kind: "transient", reason: "HTTP 500: x" }, attempts: 3 });
  expect(calls).toBe(3);
  expect(sleeps).toEqual([250, 750]);
});

test("success on a retry is a success", async () => {
  const { clock } = fakeClock();
  let calls = 0;
  const retried: number[] = [];
  const r = await retrying(async () => { if (++calls < 2) throw httpError(502, "x"); return "done"; }, 5000, retryPolicy(5000), (_, n) => retried.push(n), clock);
  expect(r).toEqual({ ok: true, value: "done" });
  expect(retried).toEqual([1]);
});

test.each([
  ["401", httpError(401, "x")],
  ["404", httpError(404, "x")],
])("a %s is not retried", async (_, e) => {
  const { clock } = fakeClock();
  let calls = 0;
  const r = await retrying(async () => { calls++; throw e; }, 5000, retryPolicy(5000), () => {}, clock);
  expect(calls).toBe(1);
  expect(r.ok).toBe(false);
});

test("hung requests: two attempts, each given the whole timeout, then it stops", async () => {
  const { clock, advance } = fakeClock();
  const given: number[] = [];
  const r = await retrying(async (ms) => { given.push(ms); advance(ms); throw noResponse("timed out"); }, 5000, retryPolicy(5000), () => {}, clock);
  // 5 s, pause 0.25 s, 5 s; the 0.75 s pause would leave nothing of the 11 s for a third.
  expect(given).toEqual([5000, 5000]);
  expect(retryPolicy(5000).budgetMs).toBe(11_000);
  expect(r).toEqual({ ok: false, error: { kind: "transient", reason: "timed out" }, attempts: 2 });
});

test("a slow failure leaves a third attempt only what is left of the budget", async () => {
  const { clock, advance } = fakeClock();
  const given: number[] = [];
  // The first attempt hangs (5 s), the second fails at once, the third gets the rest.
  const r = await retrying(async (ms) => { given.push(ms); if (given.length === 1) advance(ms); throw noResponse("x"); }, 5000, retryPolicy(5000), () => {}, clock);
  expect(given).toEqual([5000, 5000, 5000]);
  expect(r.ok).toBe(false);
});
