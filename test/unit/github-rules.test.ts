// When statuses are posted and what they say (SPEC §7).
import { test, expect } from "bun:test";
import { decisionStatus, finalAction, finalStatus, type DecidedOutcome, type TaskEnd } from "../../src/github/rules.ts";

const decisions: [DecidedOutcome, boolean, ReturnType<typeof decisionStatus>][] = [
  ["run", false, { state: "pending", description: "not cached" }],
  ["run", true, { state: "pending", description: "running" }],
  ["skip", true, { state: "success", description: "local cache hit (?)" }],
  ["restored", true, { state: "success", description: "cache hit" }],
  ["prime", true, { state: "success", description: "not run (prime-cache mode)" }],
  ["error", true, null],
  ["error", false, null],
];

test.each(decisions)("decision %s (inputs: %p) posts %j", (outcome, hasInputs, expected) => {
  expect(decisionStatus(outcome, hasInputs)).toEqual(expected);
});

const end = (over: Partial<TaskEnd>): TaskEnd => ({ code: 0, cancelledBy: null, outcome: "run", commitStatus: false, postedSuccess: false, ...over });

// [case, end, action, final status]
const finals: [string, TaskEnd, ReturnType<typeof finalAction>, ReturnType<typeof finalStatus>][] = [
  ["--commit-status, ran, succeeded", end({ commitStatus: true }), "post", { state: "success", description: "success" }],
  ["--commit-status, ran, failed", end({ commitStatus: true, code: 3 }), "post", { state: "failure", description: "failed with exit code 3" }],
  ["--commit-status, skipped (success already posted)", end({ commitStatus: true, outcome: "skip", postedSuccess: true }), "none", { state: "success", description: "local cache hit (?)" }],
  ["--commit-status, restored (success already posted)", end({ commitStatus: true, outcome: "restored", postedSuccess: true }), "none", { state: "success", description: "cache hit" }],
  ["--commit-status, restored, post-unpack command failed", end({ commitStatus: true, outcome: "restored", postedSuccess: true, code: 1 }), "post", { state: "failure", description: "failed with exit code 1" }],
  ["--commit-status, skipped, its success could not be posted", end({ commitStatus: true, outcome: "skip" }), "post-if-exists", { state: "success", description: "local cache hit (?)" }],
  ["no --commit-status, succeeded", end({}), "post-if-exists", { state: "success", description: "success" }],
  ["no --commit-status, skipped", end({ outcome: "skip" }), "post-if-exists", { state: "success", description: "local cache hit (?)" }],
  ["no --commit-status, primed", end({ outcome: "prime" }), "post-if-exists", { state: "success", description: "not run (prime-cache mode)" }],
  ["no --commit-status, failed", end({ code: 1 }), "post", { state: "failure", description: "failed with exit code 1" }],
  ["never called snapshot, succeeded", end({ outcome: null }), "post-if-exists", { state: "success", description: "success" }],
  ["never called snapshot, killed by a signal", end({ outcome: null, code: 137 }), "post", { state: "failure", description: "failed with exit code 137" }],
  ["bad snapshot arguments", end({ outcome: "error", commitStatus: false, code: 1 }), "post", { state: "failure", description: "failed with exit code 1" }],
  ["cancelled by SIGINT", end({ commitStatus: true, code: 130, cancelledBy: "SIGINT" }), "post", { state: "failure", description: "cancelled by SIGINT" }],
  ["cancelled by SIGTERM, no --commit-status", end({ code: 143, cancelledBy: "SIGTERM" }), "post", { state: "failure", description: "cancelled by SIGTERM" }],
];

test.each(finals)("at the end: %s", (_, e, action, status) => {
  expect(finalAction(e)).toBe(action);
  expect(finalStatus(e)).toEqual(status);
});
