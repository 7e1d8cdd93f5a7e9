// sys/path.ts must give node:path's POSIX results for every call the program makes: a table of
// cases with the shapes paths take (relative, absolute, "." and "..", repeated and trailing
// slashes, the root, empty), each compared with node:path.posix.
import { describe, expect, test } from "bun:test";
import { posix } from "node:path";
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from "../../src/sys/path.ts";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///",
  "a",
  "a/",
  "a//",
  "/a",
  "//a",
  "///a",
  "/a/",
  "a/b",
  "a//b",
  "/a//b",
  "/a/b/",
  "./a",
  "../a",
  "a/..",
  "a/../",
  "a/../..",
  "/..",
  "/../a",
  "/a/../../b",
  "a/./b/.",
  "./",
  "../",
  "../../x/./y/../z",
  ".git",
  "a/.git",
  "..a/b..",
  "a b/c d",
  "ü/ß",
];

describe("sys/path matches node:path.posix", () => {
  test("sep and isAbsolute", () => {
    expect(sep).toBe(posix.sep);
    for (const p of PATHS) expect([p, isAbsolute(p)]).toEqual([p, posix.isAbsolute(p)]);
  });

  test("normalize, dirname, basename", () => {
    for (const p of PATHS) {
      expect([p, normalize(p)]).toEqual([p, posix.normalize(p)]);
      expect([p, dirname(p)]).toEqual([p, posix.dirname(p)]);
      expect([p, basename(p)]).toEqual([p, posix.basename(p)]);
    }
  });

  test("join and resolve, of one, two and three parts", () => {
    expect(join()).toBe(posix.join());
    expect(resolve()).toBe(posix.resolve());
    for (const a of PATHS) {
      expect([a, join(a)]).toEqual([a, posix.join(a)]);
      expect([a, resolve(a)]).toEqual([a, posix.resolve(a)]);
      for (const b of PATHS) {
        expect([a, b, join(a, b)]).toEqual([a, b, posix.join(a, b)]);
        expect([a, b, resolve(a, b)]).toEqual([a, b, posix.resolve(a, b)]);
      }
    }
    for (const parts of [["/x", "", "y", "../z"], ["a", "/b", "c"], ["", "", ""], ["a", "..", ".."], ["/", "a", "/"]]) {
      expect([parts, join(...parts)]).toEqual([parts, posix.join(...parts)]);
      expect([parts, resolve(...parts)]).toEqual([parts, posix.resolve(...parts)]);
    }
  });

  test("relative, between every pair", () => {
    for (const a of PATHS) for (const b of PATHS) expect([a, b, relative(a, b)]).toEqual([a, b, posix.relative(a, b)]);
    for (const [a, b] of [
      ["/a/bc", "/a/b"],
      ["/a/b", "/a/bc"],
      ["/", "/x/y"],
      ["/x/y", "/"],
      ["/x/y/z", "/x/q"],
      ["/data/state", "/data/state/builds/b1/logs/t.log"],
    ]) {
      expect([a, b, relative(a!, b!)]).toEqual([a, b, posix.relative(a!, b!)]);
    }
  });
});
