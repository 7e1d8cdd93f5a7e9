// The local output cache's backend: an `ObjectStore` in a directory, a key being a path under
// it, so the directory has the remote cache's layout (`<prefix>bundles/<archive>`).
//
// Several builds may share the directory. Objects are written under a temporary name in the
// same directory and renamed into place (atomic within one file system), so a reader sees the
// old object, the new one or none, never half of one; two writers of one key both succeed and
// the last rename wins. Readers open the file before reading, so an object replaced or evicted
// while it is read stays readable to the end. No fsync: after a power loss a torn archive is a
// damaged archive, which the cache deletes and treats as a miss.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { mkdir, readdir, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "../sys/path.ts";
import { type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ObjectStore } from "./store.ts";

const TEMP_MARK = ".tmp-";
// A temporary file this old belongs to a writer that died; eviction removes it.
const STALE_TEMP_MS = 60 * 60 * 1000;

/** One archive as eviction sees it. */
export interface CachedEntry {
  name: string;
  bytes: number;
  /** When it was last written or restored (its mtime, bumped on every restore). */
  usedMs: number;
}

/**
 * The least recently used entries to delete so that the rest fit in `maxBytes` (pure). Ties are
 * broken by name, so the choice is deterministic.
 */
export function chooseEvictions(entries: CachedEntry[], maxBytes: number): string[] {
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const oldestFirst = [...entries].sort((a, b) => a.usedMs - b.usedMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const evicted: string[] = [];
  for (const e of oldestFirst) {
    if (total <= maxBytes) break;
    evicted.push(e.name);
    total -= e.bytes;
  }
  return evicted;
}

/** A directory holding objects by key; see the file comment for concurrency. */
export class LocalStore implements ObjectStore {
  readonly label: string;

  constructor(readonly dir: string) {
    this.label = dir;
  }

  async get(key: string): Promise<Readable | null> {
    const path = this.path(key);
    let fd: number;
    try {
      fd = fs.openSync(path, "r");
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
    // Restoring counts as a use: the entry moves to the back of the eviction queue.
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    return fs.createReadStream("", { fd, highWaterMark: 1 << 20 });
  }

  async getText(key: string): Promise<string | null> {
    try {
      return await fs.promises.readFile(this.path(key), "utf8");
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async put(key: string, body: Readable): Promise<void> {
    await this.replace(key, (temp) => pipeline(body, fs.createWriteStream(temp, { flags: "wx" })));
  }

  async putText(key: string, text: string): Promise<void> {
    await this.replace(key, (temp) => writeFile(temp, text, { flag: "wx" }));
  }

  /** Deletes an object; a missing one is not an error. */
  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  /**
   * Deletes the least recently used `.tar.zst` objects under the folder `under` (a key prefix
   * ending in `/`) until they fit in `maxBytes`, and temporary files of writers that died.
   * Returns the keys deleted. Safe to run in several processes at once.
   */
  async evict(under: string, maxBytes: number): Promise<string[]> {
    const folder = this.path(under);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    const entries: CachedEntry[] = [];
    const now = Date.now();
    for (const name of names) {
      const st = await stat(join(folder, name)).catch(() => null);
      if (st === null || !st.isFile()) continue;
      if (name.includes(TEMP_MARK)) {
        if (now - st.mtimeMs > STALE_TEMP_MS) await unlink(join(folder, name)).catch(() => {});
      } else if (name.endsWith(".tar.zst")) {
        entries.push({ name, bytes: st.size, usedMs: st.mtimeMs });
      }
    }
    const evicted = chooseEvictions(entries, maxBytes);
    // Another build may have evicted (or just restored) the same entry: a vanished file is fine.
    for (const name of evicted) await unlink(join(folder, name)).catch(() => {});
    return evicted.map((name) => under + name);
  }

  /** Writes through `write` into a fresh temporary file next to the object, then renames it into place. */
  private async replace(key: string, write: (temp: string) => Promise<void>): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await write(temp);
      await rename(temp, path);
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw e;
    }
  }

  private path(key: string): string {
    const parts = key.split("/");
    if (key.startsWith("/") || parts.some((p) => p === ".." || p === ".")) throw new Error(`invalid cache key ${JSON.stringify(key)}`);
    return join(this.dir, key);
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
