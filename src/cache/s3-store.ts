import type { Readable } from "node:stream";
import type { RemoteSettings } from "../settings.ts";
import type { ObjectStore } from "./store.ts";

// Two attempts, each bounded by TASKRUNNER_REMOTE_CACHE_TIMEOUT, so an unreachable or hung
// store costs seconds, not minutes. The SDK's socket timeouts (requestTimeout) do not fire
// under Bun's node:http, so the bounds are our own: an abort signal until the response
// starts, and a watchdog on the body while it streams.
const MAX_ATTEMPTS = 2;
// Multipart parts: 8 MiB, 4 in flight: at most ~32 MiB buffered whatever the archive size.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
// An upload reports progress once per part; a part may take a while on a slow link.
const UPLOAD_IDLE_FACTOR = 12;

/**
 * The S3 backend. Loaded with `await import()` only when the remote cache is used: the SDK
 * costs ~25 ms to load even as bytecode, which the no-op path must not pay.
 */
export async function openS3Store(settings: RemoteSettings, bucket: string): Promise<ObjectStore> {
  const [{ S3Client, GetObjectCommand, PutObjectCommand }, { Upload }] = await Promise.all([
    import("@aws-sdk/client-s3"),
    import("@aws-sdk/lib-storage"),
  ]);
  const timeoutMs = settings.timeoutSeconds * 1000;
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint === null ? {} : { endpoint: settings.endpoint, forcePathStyle: true }),
    ...(settings.credentials === null ? {} : { credentials: settings.credentials }),
    // The SDK's default checksums wrap streamed bodies in aws-chunked framing that several
    // S3-compatible stores save verbatim, corrupting the object (BUN-NOTES.md).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });

  /** Runs a request, aborting it if its response has not started within the timeout. */
  const withDeadline = async <T>(request: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new TimeoutError(settings.timeoutSeconds)), timeoutMs * MAX_ATTEMPTS);
    try {
      return await request(abort.signal);
    } catch (e) {
      throw abort.signal.aborted ? abort.signal.reason : e;
    } finally {
      clearTimeout(timer);
    }
  };

  const get = async (key: string): Promise<Readable | null> => {
    try {
      const out = await withDeadline((abortSignal) => client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }));
      const body = (out.Body as Readable | undefined) ?? null;
      if (body !== null) watchIdle(body, timeoutMs, () => new TimeoutError(settings.timeoutSeconds));
      return body;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  };

  return {
    label: `s3://${bucket}`,
    get,
    async getText(key) {
      const body = await get(key);
      if (body === null) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks).toString("utf8");
    },
    async put(key, body, contentType) {
      const abort = new AbortController();
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, StorageClass: "REDUCED_REDUNDANCY", ...(contentType ? { ContentType: contentType } : {}) },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
        abortController: abort,
      });
      const idleMs = timeoutMs * UPLOAD_IDLE_FACTOR;
      let timer = setTimeout(() => abort.abort(), idleMs);
      upload.on("httpUploadProgress", () => {
        clearTimeout(timer);
        timer = setTimeout(() => abort.abort(), idleMs);
      });
      try {
        await upload.done();
      } catch (e) {
        throw abort.signal.aborted ? new TimeoutError(idleMs / 1000) : e;
      } finally {
        clearTimeout(timer);
      }
    },
    async putText(key, text, contentType) {
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, StorageClass: "REDUCED_REDUNDANCY", ...(contentType ? { ContentType: contentType } : {}) });
      await withDeadline((abortSignal) => client.send(command, { abortSignal }));
    },
  };
}

/** The store did not answer in time. */
class TimeoutError extends Error {
  constructor(seconds: number) {
    super(`no answer within ${seconds} s (TASKRUNNER_REMOTE_CACHE_TIMEOUT)`);
    this.name = "Timeout";
  }
}

function isMissing(e: unknown): boolean {
  const name = (e as { name?: string }).name;
  return name === "NoSuchKey" || name === "NotFound" || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}

/** Destroys a body stream that stops delivering data for `ms` (a store that stalls mid-body). */
function watchIdle(body: Readable, ms: number, error: () => Error): void {
  let timer = setTimeout(() => body.destroy(error()), ms);
  body.on("data", () => {
    clearTimeout(timer);
    timer = setTimeout(() => body.destroy(error()), ms);
  });
  body.once("close", () => clearTimeout(timer));
  body.once("end", () => clearTimeout(timer));
  // A `data` listener switches the body to flowing mode: without this, bytes that arrive before
  // the caller starts reading (it may await something else first) would be dropped.
  body.pause();
}
