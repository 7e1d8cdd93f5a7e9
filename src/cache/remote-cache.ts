import { existsSync, createReadStream } from "node:fs";
import { readOffMarker, writeOffMarker } from "../state/off-marker.ts";
import { Readable } from "node:stream";
import type { ObjectStore } from "./store.ts";
import { archiveKey, latestKey, logKey, LOG_CONTENT_TYPE } from "./keys.ts";

type Say = (level: "info" | "warn" | "error" | "debug", text: string) => void;

/**
 * The remote cache as one task uses it, failing open: the first service error prints one
 * `warn` and turns the cache off, and a marker in the build directory turns it off for the
 * rest of the build too, so an outage costs one timeout per build, not one per task.
 * Damaged archives are misses, never failures.
 */
export class RemoteCache {
  private store: ObjectStore | null = null;
  private off: string | null;

  constructor(
    private readonly open: () => Promise<ObjectStore>,
    private readonly prefix: string,
    /** `builds/<build>/remote-cache-off`: why the cache went off earlier in this build. */
    private readonly offMarker: string,
    private readonly say: Say,
  ) {
    this.off = readMarker(offMarker);
    if (this.off !== null) say("warn", `Remote cache is off for this task: ${this.off}`);
  }

  /** Whether the cache is still usable for this task. */
  get usable(): boolean {
    return this.off === null;
  }

  /** Downloads and unpacks an archive into `root`; true if restored. */
  async restore(archive: string, root: string): Promise<"restored" | "miss" | "damaged"> {
    const body = await this.call((s) => s.get(archiveKey(this.prefix, archive)));
    if (body === undefined || body === null) return "miss";
    const { unpackArchive } = await import("./archive.ts");
    const unpacked = await unpackArchive(body, root);
    if (unpacked.ok) return "restored";
    body.destroy();
    this.say("warn", `Remote cache archive ${archive} could not be restored, treating it as a miss: ${unpacked.error}`);
    return "damaged";
  }

  /** The hash last uploaded for a task on a branch (fuzzy cache), or null. */
  async latest(task: string, branch: string): Promise<string | null> {
    const text = await this.call((s) => s.getText(latestKey(this.prefix, task, branch)));
    const hash = text?.trim() ?? "";
    return /^[0-9a-f]{40}$/.test(hash) ? hash : null;
  }

  /** Packs `paths` (relative to `root`) and uploads them as `archive`; true if uploaded. */
  async upload(archive: string, root: string, paths: string[]): Promise<boolean> {
    if (!this.usable) {
      this.say("warn", `Not uploading ${archive}: the remote cache is off for this task`);
      return false;
    }
    const { packArchive } = await import("./archive.ts");
    const packed = packArchive(root, paths);
    const body = toNodeReadable(packed.stream);
    const [put, result] = await Promise.all([this.attempt((s) => s.put(archiveKey(this.prefix, archive), body)), packed.done]);
    // A packing failure also fails the upload (its body errors); it says nothing of the store.
    if (!result.ok) {
      this.say("warn", `Not uploading ${archive}: packing the outputs failed: ${result.error}`);
      return false;
    }
    if (!put.ok) this.turnOff(describeServiceError(put.error));
    return put.ok;
  }

  /** Records `hash` as the latest for a task on a branch. */
  async setLatest(task: string, branch: string, hash: string): Promise<void> {
    if (this.usable) await this.call((s) => s.putText(latestKey(this.prefix, task, branch), hash));
  }

  /** Uploads a log file as text; true if uploaded. */
  async uploadLog(logsPrefix: string, buildId: string, task: string, path: string): Promise<boolean> {
    if (!this.usable) {
      this.say("warn", `Not uploading the log of ${task}: the remote cache is off for this task`);
      return false;
    }
    const key = logKey(logsPrefix, buildId, task);
    const body = existsSync(path) ? createReadStream(path) : Readable.from([Buffer.alloc(0)]);
    const put = await this.attempt((s) => s.put(key, body, LOG_CONTENT_TYPE));
    if (!put.ok) this.turnOff(describeServiceError(put.error));
    return put.ok;
  }

  /** Runs a store operation; undefined if it failed (the cache is then off). */
  private async call<T>(op: (store: ObjectStore) => Promise<T>): Promise<T | undefined> {
    if (this.off !== null) return undefined;
    const r = await this.attempt(op);
    if (r.ok) return r.value;
    this.turnOff(describeServiceError(r.error));
    return undefined;
  }

  private async attempt<T>(op: (store: ObjectStore) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    try {
      this.store ??= await this.open();
      return { ok: true, value: await op(this.store) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private turnOff(reason: string): void {
    this.off = reason;
    this.say("warn", `Remote cache is off for this task: ${reason}`);
    writeOffMarker(this.offMarker, reason);
  }
}

function readMarker(path: string): string | null {
  const reason = readOffMarker(path);
  return reason === null ? null : `it failed earlier in this build (${reason})`;
}

function toNodeReadable(stream: ReadableStream<Uint8Array> | NodeJS.ReadableStream): Readable {
  if (stream instanceof Readable) return stream;
  if ("getReader" in stream) return Readable.fromWeb(stream as import("node:stream/web").ReadableStream<Uint8Array>);
  return new Readable().wrap(stream);
}

/**
 * A one-line reason from an SDK or network error: the service's error code and HTTP status,
 * or the network error code. SDK messages hold no credentials; request signatures are not in them.
 */
export function describeServiceError(e: unknown): string {
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const code = err.code ?? (err.name && err.name !== "Error" ? err.name : undefined);
  const parts = [
    status !== undefined ? `HTTP ${status}` : null,
    code ?? null,
    err.message && err.message !== code ? err.message.split("\n")[0] : null,
  ].filter((p): p is string => p !== null && p !== "");
  return parts.length > 0 ? parts.join(": ") : String(e);
}
