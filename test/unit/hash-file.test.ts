// readSavedHash's shortcut must answer as reading the whole file does.
import { test, expect, afterAll } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSavedHash, readSavedState, writeSavedState } from "../../src/state/hash-file.ts";

const DIR = mkdtempSync(join(tmpdir(), "taskrunner-hash-file-"));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
const H = "6b36308659163b577fd1c832107dc46ca3aa659b";
const path = join(DIR, "t.hash");

test.each([
  ["plain", { hash: H, hashInput: "100644 blob 257cc5642cb1a054f08cc83f2d943e56fd3ebe99\tinput.txt", mainBranchCommit: null }],
  ["empty hash input, main branch commit", { hash: H, hashInput: "", mainBranchCommit: H }],
  ["a hash input that looks like the end of the file", { hash: H, hashInput: '","mainBranchCommit":null}\\"\n\u00e9', mainBranchCommit: null }],
  ["an empty hash (saved by the fuzzy cache)", { hash: "", hashInput: "", mainBranchCommit: H }],
])("%s: what writeSavedState wrote", (_, state) => {
  writeSavedState(path, state);
  expect(readSavedHash(path)).toBe(state.hash);
  expect(readSavedState(path)).toEqual(state);
});

test.each([
  ["another key order", `{"mainBranchCommit":null,"hashInput":"x","hash":"${H}"}`, H],
  ["spaces", `{ "hash": "${H}", "hashInput": "x", "mainBranchCommit": null }`, H],
  ["cut short", `{"hash":"${H}","hashInput":"x","mainBranchCom`, null],
  ["cut short inside the hash input", `{"hash":"${H}","hashInput":"x`, null],
  ["not JSON", "garbage", null],
  ["no hash input", `{"hash":"${H}","mainBranchCommit":null}`, null],
])("%s", (_, text, expected) => {
  writeFileSync(path, text);
  expect(readSavedHash(path)).toBe(expected);
  expect(readSavedState(path)?.hash ?? null).toBe(expected);
});

test("a missing file is no hash", () => {
  expect(readSavedHash(join(DIR, "missing.hash"))).toBeNull();
});
