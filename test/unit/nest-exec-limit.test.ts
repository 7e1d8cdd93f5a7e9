// The kernel's limits on a started program's arguments and environment, as exec-limit.ts
// estimates them: from above, so that a call near them goes to the executable.
import { expect, test } from "bun:test";
import { argumentRoom, execFits, stackSoftLimit } from "../../src/nest/exec-limit.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

test.each<[string, number | null, number]>([
  ["the usual 8 MiB stack: a quarter", 8 * MiB, 2 * MiB],
  ["an unlimited stack: three quarters of 8 MiB", null, 6 * MiB],
  ["a 64 MiB stack: still three quarters of 8 MiB", 64 * MiB, 6 * MiB],
  ["a tiny stack: never under 32 pages", 64 * KiB, 128 * KiB],
])("room: %s", (_what, stack, room) => {
  expect(argumentRoom(stack)).toBe(room);
});

test.each<[string, string, number | null]>([
  ["bytes", "Limit                     Soft Limit           Hard Limit           Units     \nMax stack size            8388608              unlimited            bytes     \n", 8388608],
  ["unlimited", "Max stack size            unlimited            unlimited            bytes     \n", null],
  ["missing", "Max open files            1024                 4096                 files     \n", null],
])("stack soft limit: %s", (_what, text, limit) => {
  expect(stackSoftLimit(text)).toBe(limit);
});

const room = 2 * MiB;
const x = (n: number) => "x".repeat(n);

test.each<[string, string[], Record<string, string>, boolean]>([
  ["a usual call", ["taskrunner", "-n", "t", "bash", "x.sh"], { PATH: "/usr/bin:/bin", HOME: "/root" }, true],
  ["a variable just within 128 KiB with its name, = and NUL", ["taskrunner"], { V: x(128 * KiB - 3) }, true],
  ["a variable one byte over", ["taskrunner"], { V: x(128 * KiB - 2) }, false],
  ["an argument over 128 KiB", ["taskrunner", x(128 * KiB)], {}, false],
  ["multibyte text counted in bytes", ["taskrunner"], { V: "é".repeat(64 * KiB) }, false],
  ["many variables over the room together", ["taskrunner"], Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`V${i}`, x(110 * KiB)])), false],
  ["the same, fewer: within", ["taskrunner"], Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`V${i}`, x(110 * KiB)])), true],
])("fits: %s", (_what, argv, env, fits) => {
  expect(execFits(argv, env, room)).toBe(fits);
});
