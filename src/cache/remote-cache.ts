import { existsSync, createReadStream } from "node:fs";
import { readOffMarker, writeOffMarker } from "../state/off-marker.ts";
import { Readable } from "node:stream";
import type { ObjectStore } from "./store.ts";
import { archiveKey, latestKey, logKey, LOG_CONTENT_TYPE } from "./keys.ts";
import type { TarEnv } from "./archive.ts";
import type { Secret } from "../github/secret.ts";
import { archiveMac, formatSignature, macSource, macTap, signatureKey, signatureMatches } from "./signing.ts";
import { pipeline } from "node:stream";
import { ok, err, type Result } from "../result.ts";

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
    /** TASKRUNNER_CACHE_SIGNING_KEY: sign uploads, restore only archives signed with it. */
    private readonly signingKey: Secret | null = null,
    /** The environment tar runs with (the task's). */
    private readonly tarEnv?: TarEnv,
  ) {
    this.off = readMarker(offMarker);
    if (this.off !== null) say("warn", `Remote cache is off for this task: ${this.off}`);
  }

  /** Whether the cache is still usable for this task. */
  get usable(): boolean {
    return this.off === null;
  }

  /**
   * Downloads and unpacks an archive into `root`. With a signing key, the archive's signature
   * is fetched too and the MAC of the downloaded bytes checked before anything is moved into
   * place; an unsigned or wrongly signed archive is a miss with a `warn`.
   */
  async restore(archive: string, root: string): Promise<"restored" | "miss" | "damaged"> {
    const key = archiveKey(this.prefix, archive);
    const body = await this.call((s) => s.get(key));
    if (body === undefined || body === null) return "miss";
    let source: AsyncIterable<Uint8Array> = body;
    let verify: (() => Result<void, string>) | undefined;
    if (this.signingKey !== null) {
      // Fetched only after the archive exists, so a plain miss still costs one request.
      const signature = await this.call((s) => s.getText(signatureKey(key)));
      if (signature === undefined || signature === null) {
        body.destroy();
        if (signature === null) this.say("warn", `Remote cache archive ${archive} has no signature, treating it as a miss (with TASKRUNNER_CACHE_SIGNING_KEY set, only signed archives are restored)`);
        return signature === null ? "damaged" : "miss";
      }
      const mac = archiveMac(this.signingKey, archive);
      const tapped = macSource(body, mac);
      source = tapped.source;
      verify = () => {
        if (!tapped.finished()) return err("the archive was not read to its end, so its signature cannot be checked");
        if (signatureMatches(signature, mac)) return ok(undefined);
        return err("its signature does not match (it was signed with another TASKRUNNER_CACHE_SIGNING_KEY, or changed after it was signed)");
      };
    }
    const { unpackArchive } = await import("./archive.ts");
    const unpacked = await unpackArchive(source, root, verify, this.tarEnv);
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

  /**
   * Packs `paths` (relative to `root`) and uploads them as `archive`; true if uploaded.
   * `packed`, if given, is the same archive already packed (the local cache's copy), streamed
   * instead of packing the outputs a second time; null from it means pack after all.
   */
  async upload(archive: string, root: string, paths: string[], packedCopy?: () => Promise<Readable | null>): Promise<boolean> {
    if (!this.usable) {
      this.say("warn", `Not uploading ${archive}: the remote cache is off for this task`);
      return false;
    }
    const copy = packedCopy === undefined ? null : await packedCopy().catch(() => null);
    const { packArchive } = await import("./archive.ts");
    const packed = copy === null ? packArchive(root, paths, this.tarEnv) : { stream: copy, done: finished(copy) };
    const key = archiveKey(this.prefix, archive);
    const mac = this.signingKey === null ? null : archiveMac(this.signingKey, archive);
    // The MAC is computed as the archive streams to the store: it is never buffered whole.
    const body = mac === null ? packed.stream : pipeline(packed.stream, macTap(mac), () => {});
    const [put, result] = await Promise.all([this.attempt((s) => s.put(key, body)), packed.done]);
    // A packing failure also fails the upload (its body errors); it says nothing of the store.
    if (!result.ok) {
      this.say("warn", `Not uploading ${archive}: packing the outputs failed: ${result.error}`);
      return false;
    }
    if (!put.ok) {
      this.turnOff(describeServiceError(put.error));
      return false;
    }
    if (mac === null) return true;
    // Written after the archive: a reader that finds the new archive before its signature sees
    // a missing or stale signature, which is a miss, never an unverified restore.
    const signed = await this.attempt((s) => s.putText(signatureKey(key), formatSignature(mac)));
    if (!signed.ok) this.turnOff(describeServiceError(signed.error));
    return signed.ok;
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

/** Settles when a stream ends (ok) or fails (the error), like `packArchive`'s `done`. */
function finished(stream: Readable): Promise<Result<void, string>> {
  return new Promise((resolve) => {
    stream.once("end", () => resolve(ok(undefined)));
    stream.once("error", (e) => resolve(err(`reading the local cache's copy failed: ${e.message}`)));
    stream.once("close", () => resolve(stream.readableEnded ? ok(undefined) : err("the local cache's copy was closed before its end")));
  });
}

function readMarker(path: string): string | null {
  const reason = readOffMarker(path);
  return reason === null ? null : `it failed earlier in this build (${reason})`;
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
