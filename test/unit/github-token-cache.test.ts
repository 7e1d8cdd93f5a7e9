// The machine-wide token cache: its file format, when a cached token may be used, and sharing
// one token between concurrent users under the lock.
import { test, expect, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshness, parseTokenCache, formatTokenCache, readTokenCache, writeTokenCache, tokenScope, type CachedToken } from "../../src/github/token-cache.ts";
import { InstallationTokens, type IssuedToken } from "../../src/github/installation-token.ts";
import { ok, err, type Result } from "../../src/result.ts";
import type { ApiFailure } from "../../src/github/retry.ts";

const dir = mkdtempSync(join(tmpdir(), "token-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOW = new Date("2025-01-01T12:00:00.000Z");
const SCOPE = tokenScope("https://api.github.com", "123");
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);
const cached = (secondsLeft: number, scope: string | null = SCOPE): CachedToken => ({ token: "ghs_x", expiresAt: at(secondsLeft), scope });

const cases: [string, CachedToken | null, number, ReturnType<typeof freshness>][] = [
  ["no cache", null, 300, "missing"],
  ["an hour left", cached(3600), 300, "fresh"],
  ["301 s left, threshold 300", cached(301), 300, "fresh"],
  ["exactly the threshold left", cached(300), 300, "expiring"],
  ["less than the threshold left", cached(299.5), 300, "expiring"],
  ["expired", cached(-10), 300, "expiring"],
  ["threshold 0, 1 s left", cached(1), 0, "fresh"],
  ["threshold 0, expired", cached(0), 0, "expiring"],
  ["written by the earlier implementation (no scope)", cached(3600, null), 300, "fresh"],
  ["another installation", cached(3600, tokenScope("https://api.github.com", "999")), 300, "other-installation"],
  ["another API (GitHub Enterprise)", cached(3600, tokenScope("https://ghe.example/api/v3", "123")), 300, "other-installation"],
];

test.each(cases)("freshness: %s", (_, c, threshold, expected) => {
  expect(freshness(c, SCOPE, NOW, threshold)).toBe(expected);
});

const files: [string, string, CachedToken | null][] = [
  ["ours", '{"cachedToken":"ghs_a","cachedExpiresAt":"2025-01-01T13:00:00.000Z","cachedFor":"s"}', { token: "ghs_a", expiresAt: new Date("2025-01-01T13:00:00Z"), scope: "s" }],
  ["the earlier implementation's (no fraction, no scope)", '{"cachedToken":"ghs_a","cachedExpiresAt":"2025-01-01T13:00:00Z"}', { token: "ghs_a", expiresAt: new Date("2025-01-01T13:00:00Z"), scope: null }],
  ["an offset instead of Z", '{"cachedToken":"ghs_a","cachedExpiresAt":"2025-01-01T14:00:00+01:00"}', { token: "ghs_a", expiresAt: new Date("2025-01-01T13:00:00Z"), scope: null }],
  ["not JSON", "{", null],
  ["JSON null", "null", null],
  ["an array", "[]", null],
  ["no token", '{"cachedExpiresAt":"2025-01-01T13:00:00Z"}', null],
  ["empty token", '{"cachedToken":"","cachedExpiresAt":"2025-01-01T13:00:00Z"}', null],
  ["expiry as a number", '{"cachedToken":"ghs_a","cachedExpiresAt":1735736400}', null],
  ["expiry not a time", '{"cachedToken":"ghs_a","cachedExpiresAt":"soon"}', null],
];

test.each(files)("parseTokenCache: %s", (_, text, expected) => {
  expect(parseTokenCache(text)).toEqual(expected);
});

test("formatTokenCache writes the spec's fields, the expiry as ISO-8601 UTC", () => {
  expect(formatTokenCache({ token: "ghs_a", expiresAt: new Date("2025-01-01T13:00:00Z"), scope: "s" })).toBe(
    '{"cachedToken":"ghs_a","cachedExpiresAt":"2025-01-01T13:00:00.000Z","cachedFor":"s"}',
  );
  expect(formatTokenCache({ token: "ghs_a", expiresAt: new Date("2025-01-01T13:00:00Z"), scope: null })).toBe(
    '{"cachedToken":"ghs_a","cachedExpiresAt":"2025-01-01T13:00:00.000Z"}',
  );
});

test("writeTokenCache replaces the file atomically, owner-readable only, leaving no temp file", () => {
  const path = join(dir, "sub", "cache.json");
  writeTokenCache(path, cached(60));
  writeTokenCache(path, { ...cached(60), token: "ghs_y" });
  expect(readTokenCache(path)?.token).toBe("ghs_y");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readdirSync(join(dir, "sub"))).toEqual(["cache.json"]);
  expect(readTokenCache(join(dir, "missing.json"))).toBeNull();
});

/** A token source over a fresh cache file, counting what it asks GitHub for. */
function source(name: string, opts: { threshold?: number; lifetime?: number; now?: () => Date; fail?: ApiFailure } = {}) {
  const issued: string[] = [];
  const lines: string[] = [];
  const cachePath = join(dir, `${name}.json`);
  const tokens = new InstallationTokens({
    cachePath,
    scope: SCOPE,
    thresholdSeconds: opts.threshold ?? 300,
    now: opts.now ?? (() => NOW),
    say: (level, text) => lines.push(`${level} ${text}`),
    issue: async (): Promise<Result<IssuedToken, ApiFailure>> => {
      if (opts.fail) return err(opts.fail);
      await Bun.sleep(20); // long enough for the others to queue on the lock
      const token = `ghs_${issued.length + 1}`;
      issued.push(token);
      return ok({ token, expiresAt: at(opts.lifetime ?? 3600) });
    },
  });
  return { tokens, issued, lines, cachePath };
}

test("eight concurrent users of an empty cache make one token request", async () => {
  const s = source("concurrent");
  const got = await Promise.all(Array.from({ length: 8 }, () => s.tokens.get()));
  expect(got).toEqual(Array.from({ length: 8 }, () => ({ ok: true, value: "ghs_1" })));
  expect(s.issued).toEqual(["ghs_1"]);
  expect(JSON.parse(readFileSync(s.cachePath, "utf8"))).toEqual({ cachedToken: "ghs_1", cachedExpiresAt: "2025-01-01T13:00:00.000Z", cachedFor: SCOPE });
});

test("a token within the threshold of its expiry is replaced", async () => {
  let now = NOW;
  const s = source("expiring", { threshold: 100, lifetime: 103, now: () => now });
  expect(await s.tokens.get()).toEqual({ ok: true, value: "ghs_1" });
  now = new Date(NOW.getTime() + 2_000);
  expect(await s.tokens.get()).toEqual({ ok: true, value: "ghs_1" });
  now = new Date(NOW.getTime() + 4_000);
  expect(await s.tokens.get()).toEqual({ ok: true, value: "ghs_2" });
  expect(s.lines).toContain("debug GitHub token: the cached installation token expires within 100 s, requesting a new one");
});

test("after a 401, replace() requests a new token once, even when several saw the 401", async () => {
  const s = source("replace");
  expect(await s.tokens.get()).toEqual({ ok: true, value: "ghs_1" });
  const again = await Promise.all([s.tokens.replace("ghs_1"), s.tokens.replace("ghs_1"), s.tokens.replace("ghs_1")]);
  expect(again.map((r) => r.ok && r.value)).toEqual(["ghs_2", "ghs_2", "ghs_2"]);
  expect(s.issued).toEqual(["ghs_1", "ghs_2"]);
});

test("a token of another installation in the cache is not used", async () => {
  const s = source("other");
  writeFileSync(s.cachePath, formatTokenCache({ token: "ghs_theirs", expiresAt: at(3600), scope: tokenScope("https://api.github.com", "999") }));
  expect(await s.tokens.get()).toEqual({ ok: true, value: "ghs_1" });
});

test("a failed request is returned, and leaves the cache as it was", async () => {
  const s = source("failing", { fail: { kind: "transient", reason: "HTTP 502" } });
  expect(await s.tokens.get()).toEqual({ ok: false, error: { kind: "transient", reason: "HTTP 502" } });
  expect(readTokenCache(s.cachePath)).toBeNull();
});

test("no debug line shows a token", async () => {
  const s = source("quiet");
  await s.tokens.get();
  await s.tokens.get();
  await s.tokens.replace("ghs_1");
  expect(s.lines.join("\n")).not.toContain("ghs_");
});
