import { test, expect } from "bun:test";
import { checkTaskName, taskPaths, newBuildId } from "../../src/state/paths.ts";

test.each(["build", "a.b-c_d", "with space", "日本", "x".repeat(200), ".hidden"])("task name %j is accepted", (name) => {
  expect(checkTaskName(name)).toEqual({ ok: true, value: name });
});

const bad: [string, string][] = [
  ["", "it is empty"],
  ["a/b", 'it contains "/"'],
  ["../x", 'it contains "/"'],
  ["a\0b", "it contains a NUL byte"],
  ["a\nb", "it contains a control character (newline, tab, escape...)"],
  ["a\tb", "it contains a control character (newline, tab, escape...)"],
  ["\x1b[31mred", "it contains a control character (newline, tab, escape...)"],
  ["cr\r", "it contains a control character (newline, tab, escape...)"],
  ["del\x7f", "it contains a control character (newline, tab, escape...)"],
  ["c1\x9b", "it contains a control character (newline, tab, escape...)"],
  [".", "it is a directory name"],
  ["..", "it is a directory name"],
  ["x".repeat(201), "it is longer than 200 bytes"],
  ["é".repeat(101), "it is longer than 200 bytes"],
];

test.each(bad)("task name %j is refused: %s", (name, why) => {
  const r = checkTaskName(name);
  expect(r.ok).toBe(false);
  const quoted = JSON.stringify(name).replace("\x7f", "\\u007f").replace("\x9b", "\\u009b");
  if (!r.ok) expect(r.error).toBe(`invalid task name ${quoted}: ${why}; a task name must be a plain file name, choose one with -n NAME`);
  // What is printed never carries a raw control character.
  if (!r.ok) expect(/[\x00-\x1f\x7f-\x9f]/.test(r.error)).toBe(false);
});

test("task paths follow the state directory layout", () => {
  expect(taskPaths("/s", "B", "t")).toEqual({
    lock: "/s/locks/t.lock",
    hash: "/s/hash/t.hash",
    statMemo: "/s/hash/t.stat",
    log: "/s/builds/B/logs/t.log",
    result: "/s/builds/B/results/t",
    buildDir: "/s/builds/B",
  });
});

test("build ids are ISO-8601 UTC and differ for two builds in the same instant", () => {
  const now = new Date("2026-11-28T17:18:33.123Z");
  expect(newBuildId(now, 42)).toBe("2026-11-28T17:18:33.123Z-42");
  expect(newBuildId(now, 42)).not.toBe(newBuildId(now, 43));
});
