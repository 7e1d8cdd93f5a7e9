import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseEvictions, LocalStore, type CachedEntry } from "../../src/cache/local-store.ts";
import { archiveMac, formatSignature, macSource, signatureKey, signatureMatches } from "../../src/cache/signing.ts";
import { Secret } from "../../src/github/secret.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const e = (name: string, bytes: number, usedMs: number): CachedEntry => ({ name, bytes, usedMs });
const evictions: [string, CachedEntry[], number, string[]][] = [
  ["nothing cached", [], 0, []],
  ["all fit", [e("a", 10, 1), e("b", 10, 2)], 20, []],
  ["oldest first", [e("new", 10, 3), e("old", 10, 1), e("mid", 10, 2)], 20, ["old"]],
  ["as many as needed", [e("new", 10, 3), e("old", 10, 1), e("mid", 10, 2)], 10, ["old", "mid"]],
  ["a big old one frees enough", [e("big", 100, 1), e("s1", 10, 2), e("s2", 10, 3)], 25, ["big"]],
  ["even the newest if it alone is too big", [e("a", 30, 1), e("b", 30, 2)], 20, ["a", "b"]],
  ["ties broken by name", [e("b", 10, 5), e("a", 10, 5), e("c", 10, 9)], 20, ["a"]],
  ["a bound of 0 empties the cache", [e("a", 1, 1)], 0, ["a"]],
];

test.each(evictions)("LRU choice: %s", (_, entries, max, expected) => {
  expect(chooseEvictions(entries, max)).toEqual(expected);
});

test("evict: keeps the most recently used, drops stale temporary files, ignores other files", async () => {
  const dir = fs.mkdtempSync(join(tmpdir(), "taskrunner-local-"));
  dirs.push(dir);
  const store = new LocalStore(dir);
  const folder = join(dir, "p/bundles");
  fs.mkdirSync(folder, { recursive: true });
  const at = (name: string, bytes: number, secondsAgo: number) => {
    fs.writeFileSync(join(folder, name), Buffer.alloc(bytes));
    const t = new Date(Date.now() - secondsAgo * 1000);
    fs.utimesSync(join(folder, name), t, t);
  };
  at("a.tar.zst", 100, 30);
  at("b.tar.zst", 100, 20);
  at("c.tar.zst", 100, 10);
  at("c.tar.zst.tmp-1-aa", 100, 7200); // a writer that died
  at("d.tar.zst.tmp-2-bb", 100, 1); // a writer at work
  at("notes.txt", 1000, 9999);
  // Restoring `a` makes it the most recently used.
  (await store.get("p/bundles/a.tar.zst"))!.destroy();
  expect(await store.evict("p/bundles/", 250)).toEqual(["p/bundles/b.tar.zst"]);
  expect(fs.readdirSync(folder).sort()).toEqual(["a.tar.zst", "c.tar.zst", "d.tar.zst.tmp-2-bb", "notes.txt"]);
  expect(await store.evict("p/none/", 0)).toEqual([]);
});

test("keys cannot leave the directory", async () => {
  const store = new LocalStore("/nonexistent");
  for (const key of ["../x", "a/../../x", "/etc/passwd"]) await expect(store.getText(key)).rejects.toThrow("invalid cache key");
});

test("HMAC signatures: sign and verify", async () => {
  const key = new Secret("k");
  const data = [Buffer.from("abc"), Buffer.from("def")];
  const signed = archiveMac(key, "t-1.tar.zst");
  for (const d of data) signed.update(d);
  const text = formatSignature(signed);
  expect(text).toMatch(/^hmac-sha256:[0-9a-f]{64}\n$/);

  const check = async (k: string, archive: string, chunks: Buffer[], sig = text) => {
    const mac = archiveMac(new Secret(k), archive);
    const tapped = macSource(
      (async function* () {
        yield* chunks;
      })(),
      mac,
    );
    const seen: Buffer[] = [];
    for await (const c of tapped.source) seen.push(Buffer.from(c));
    expect(Buffer.concat(seen).equals(Buffer.concat(chunks))).toBe(true);
    expect(tapped.finished()).toBe(true);
    return signatureMatches(sig, mac);
  };
  expect(await check("k", "t-1.tar.zst", [Buffer.from("abcdef")])).toBe(true); // chunking does not matter
  expect(await check("k", "t-1.tar.zst", [Buffer.from("abcdeF")])).toBe(false);
  expect(await check("k2", "t-1.tar.zst", data)).toBe(false);
  expect(await check("k", "t-2.tar.zst", data)).toBe(false);
  expect(await check("k", "t-1.tar.zst", data, "hmac-sha256:00")).toBe(false);
  expect(await check("k", "t-1.tar.zst", data, "garbage")).toBe(false);
  expect(signatureKey("p/bundles/t-1.tar.zst")).toBe("p/bundles/t-1.tar.zst.sig");
});
