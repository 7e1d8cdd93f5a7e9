import type { Readable } from "node:stream";
import { archiveKey } from "./keys.ts";
import type { TarEnv } from "./archive.ts";
import type { LocalStore } from "./local-store.ts";
import { describeServiceError } from "./remote-cache.ts";

type Say = (level: "info" | "warn" | "error" | "debug", text: string) => void;

/**
 * The local output cache (TASKRUNNER_LOCAL_CACHE_DIR) as one task uses it: restore an exact
 * archive, and fill it after a successful run, evicting the least recently used archives past
 * the size bound. It never fails a task: a disk error is a `warn` and a miss, and a damaged
 * archive is deleted (so it is not tried again) and is a miss.
 */
export class LocalCache {
  constructor(
    private readonly store: LocalStore,
    private readonly prefix: string,
    private readonly maxBytes: number,
    private readonly say: Say,
    /** The environment tar runs with (the task's). */
    private readonly tarEnv?: TarEnv,
  ) {}

  /** Unpacks the archive into `root` if the cache holds it. */
  async restore(archive: string, root: string): Promise<"restored" | "miss" | "damaged"> {
    const key = archiveKey(this.prefix, archive);
    let body;
    try {
      body = await this.store.get(key);
    } catch (e) {
      this.say("warn", `Local cache archive ${archive} could not be read, treating it as a miss: ${describeServiceError(e)}`);
      return "miss";
    }
    if (body === null) return "miss";
    const { unpackArchive } = await import("./archive.ts");
    const unpacked = await unpackArchive(body, root, undefined, this.tarEnv);
    body.destroy();
    if (unpacked.ok) return "restored";
    this.say("warn", `Local cache archive ${archive} could not be restored, deleting it and treating it as a miss: ${unpacked.error}`);
    await this.store.delete(key).catch(() => {});
    return "damaged";
  }

  /** The cached archive as a stream (to upload it without packing again), or null. */
  async read(archive: string): Promise<Readable | null> {
    return this.store.get(archiveKey(this.prefix, archive));
  }

  /** Packs `paths` (relative to `root`) into the cache as `archive`, then trims the cache. */
  async fill(archive: string, root: string, paths: string[]): Promise<boolean> {
    const { packArchive } = await import("./archive.ts");
    const packed = packArchive(root, paths, this.tarEnv);
    const key = archiveKey(this.prefix, archive);
    const [put, result] = await Promise.all([
      this.store.put(key, packed.stream).then(
        () => null,
        (e: unknown) => e,
      ),
      packed.done,
    ]);
    if (!result.ok) {
      this.say("warn", `Not saving ${archive} in the local cache: packing the outputs failed: ${result.error}`);
      return false;
    }
    if (put !== null) {
      this.say("warn", `Not saving ${archive} in the local cache ${this.store.label}: ${describeServiceError(put)}`);
      return false;
    }
    try {
      const evicted = await this.store.evict(archiveKey(this.prefix, ""), this.maxBytes);
      for (const k of evicted) this.say("debug", `local cache: evicted ${k}`);
    } catch (e) {
      this.say("warn", `Could not trim the local cache ${this.store.label}: ${describeServiceError(e)}`);
    }
    return true;
  }
}
