import { test, expect } from "bun:test";
import { parseCli, type Invocation } from "../../src/cli.ts";

const cases: [string[], Invocation][] = [
  [["bash", "-c", "x"], { kind: "run", name: null, force: false, command: ["bash", "-c", "x"] }],
  [["-n", "t", "bash", "-e", "-c", "x"], { kind: "run", name: "t", force: false, command: ["bash", "-e", "-c", "x"] }],
  [["--name", "t", "-f", "make"], { kind: "run", name: "t", force: true, command: ["make"] }],
  [["--name=t", "--force", "make", "-n"], { kind: "run", name: "t", force: true, command: ["make", "-n"] }],
  [["-f", "--", "-weird-cmd", "--force"], { kind: "run", name: null, force: true, command: ["-weird-cmd", "--force"] }],
  [["-n", "t", "-", "x"], { kind: "run", name: "t", force: false, command: ["-", "x"] }],
  [["make", "--help"], { kind: "run", name: null, force: false, command: ["make", "--help"] }],
  [["--help"], { kind: "help" }],
  [["-h", "make"], { kind: "help" }],
  [["--version"], { kind: "version" }],
  [["-V"], { kind: "version" }],
];

test.each(cases)("parseCli(%j)", (argv, expected) => {
  expect(parseCli(argv)).toEqual({ ok: true, value: expected });
});

const errors: [string[], string][] = [
  [[], "missing CMD: usage is taskrunner [-n NAME] [-f] CMD [ARGS...]"],
  [["-n", "t"], "missing CMD: usage is taskrunner [-n NAME] [-f] CMD [ARGS...]"],
  [["-n"], "option -n needs a task name"],
  [["--bogus", "make"], 'unknown option "--bogus" (options go before CMD; see --help)'],
  [["--force=yes", "make"], 'option --force takes no value, got "--force=yes"'],
  [["--"], "missing CMD: usage is taskrunner [-n NAME] [-f] CMD [ARGS...]"],
];

test.each(errors)("parseCli(%j) is an error", (argv, message) => {
  expect(parseCli(argv)).toEqual({ ok: false, error: message });
});
