// One test suite for every cache backend (the `ObjectStore` interface): the local directory
// store and S3 (a real s3rver on loopback). The fail-open cache with signed archives runs on
// top of each as well.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ObjectStore } from "../../src/cache/store.ts";
import { LocalStore } from "../../src/cache/local-store.ts";
import { openS3Store } from "../../src/cache/s3-store.ts";
import { RemoteCache } from "../../src/cache/remote-cache.ts";
import { Secret } from "../../src/github/secret.ts";
import { startS3, S3_KEY, S3_SECRET, type S3Server } from "../helpers/s3.ts";

const dirs: string[] = [];
function tmp(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(join(tmpdir(), "taskrunner-store-test-")));
  dirs.push(dir);
  return dir;
}

let s3: S3Server | null = null;
let buckets = 0;
afterAll(async () => {
  await s3?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type Backend = () => Promise<ObjectStore>;
const local: Backend = async () => new LocalStore(join(tmp(), "cache"));
const s3Backend: Backend = async () => {
  s3 ??= await startS3();
  const bucket = `store-${++buckets}`;
  await s3.createBucket(bucket);
  return openS3Store(
    {
      endpoint: s3.endpoint,
      region: "eu-central-1",
      credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
      bucket,
      prefix: "taskrunner/",
      logsPrefix: null,
      logsViewUrl: null,
      timeoutSeconds: 5,
    },
    bucket,
  );
};

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

describe.each([
  ["local", local],
  ["s3", s3Backend],
])("%s store", (_, open) => {
  let store: ObjectStore;
  beforeAll(async () => {
    store = await open();
  });

  test("a missing object is null", async () => {
    expect(await store.get("taskrunner/bundles/none.tar.zst")).toBeNull();
    expect(await store.getText("taskrunner/latest/none.txt")).toBeNull();
  });

  test("text round trip, and a second put replaces the first", async () => {
    await store.putText("taskrunner/latest/t-main.txt", "one");
    expect(await store.getText("taskrunner/latest/t-main.txt")).toBe("one");
    await store.putText("taskrunner/latest/t-main.txt", "two");
    expect(await store.getText("taskrunner/latest/t-main.txt")).toBe("two");
  });

  test("a streamed body of several MiB comes back byte for byte", async () => {
    const data = randomBytes(9 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    await store.put("taskrunner/bundles/big.tar.zst", Readable.from(chunks));
    const body = await store.get("taskrunner/bundles/big.tar.zst");
    expect(body).not.toBeNull();
    expect((await readAll(body!)).equals(data)).toBe(true);
  }, 30000);

  test("an empty body", async () => {
    await store.put("taskrunner/bundles/empty.tar.zst", Readable.from([Buffer.alloc(0)]));
    expect((await readAll((await store.get("taskrunner/bundles/empty.tar.zst"))!)).length).toBe(0);
  });

  test("a body that fails midway leaves no object", async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000, 1));
        this.destroy(new Error("packing failed"));
      },
    });
    await expect(store.put("taskrunner/bundles/failed.tar.zst", failing)).rejects.toThrow();
    expect(await store.get("taskrunner/bundles/failed.tar.zst")).toBeNull();
  });

  describe("signed archives through the cache", () => {
    const say: string[] = [];
    const cache = (key: string | null) =>
      new RemoteCache(async () => store, "signed/", join(tmp(), "off"), (level, text) => say.push(`${level}: ${text}`), key === null ? null : new Secret(key));
    let root: string;
    beforeAll(() => {
      root = tmp();
      fs.mkdirSync(join(root, "out"));
      fs.writeFileSync(join(root, "out", "a.txt"), "hello\n");
    });

    test("a signed upload restores with the key, and without it", async () => {
      expect(await cache("k1").upload("t-1.tar.zst", root, ["out"])).toBe(true);
      expect(await store.getText("signed/bundles/t-1.tar.zst.sig")).toMatch(/^hmac-sha256:[0-9a-f]{64}\n$/);
      for (const key of ["k1", null]) {
        const into = tmp();
        const got = await cache(key).restore("t-1.tar.zst", into);
        expect([got, ...say]).toEqual(["restored"]);
        expect(fs.readFileSync(join(into, "out", "a.txt"), "utf8")).toBe("hello\n");
      }
    });

    test("another key, a tampered archive, another name or no signature: a miss that writes nothing", async () => {
      await cache("k1").upload("t-2.tar.zst", root, ["out"]);
      await cache(null).upload("t-unsigned.tar.zst", root, ["out"]);
      const body = await readAll((await store.get("signed/bundles/t-2.tar.zst"))!);
      // The same bytes under another name: the signature binds the name too.
      await store.put("signed/bundles/t-3.tar.zst", Readable.from([body]));
      await store.putText("signed/bundles/t-3.tar.zst.sig", (await store.getText("signed/bundles/t-2.tar.zst.sig"))!);
      const tampered = Buffer.from(body);
      tampered[tampered.length - 1]! ^= 1; // a flipped bit in the last frame's checksum or data
      await store.put("signed/bundles/t-4.tar.zst", Readable.from([tampered]));
      await store.putText("signed/bundles/t-4.tar.zst.sig", (await store.getText("signed/bundles/t-2.tar.zst.sig"))!);
      for (const [key, archive] of [["k2", "t-2.tar.zst"], ["k1", "t-3.tar.zst"], ["k1", "t-4.tar.zst"], ["k1", "t-unsigned.tar.zst"]] as const) {
        say.length = 0;
        const into = tmp();
        expect(await cache(key).restore(archive, into)).toBe("damaged");
        expect(fs.readdirSync(into)).toEqual([]);
        expect(say).toHaveLength(1);
        expect(say[0]).toStartWith(`warn: Remote cache archive ${archive} `);
        expect(say[0]).not.toContain("k1");
      }
      expect(await cache("k1").restore("t-none.tar.zst", tmp())).toBe("miss");
    });
  });
});
