import type { Readable } from "node:stream";
import type { RemoteSettings } from "../settings.ts";
import type { ObjectStore } from "./store.ts";

// Bounded waits so an unreachable or hung store costs seconds, not minutes (fail-open).
const CONNECT_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_ATTEMPTS = 2;
// Multipart parts: 8 MiB, 4 in flight: at most ~32 MiB buffered whatever the archive size.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

/**
 * The S3 backend. Loaded with `await import()` only when the remote cache is used: the SDK
 * costs ~25 ms to load even as bytecode, which the no-op path must not pay.
 */
export async function openS3Store(settings: RemoteSettings, bucket: string): Promise<ObjectStore> {
  const [{ S3Client, GetObjectCommand, PutObjectCommand }, { Upload }] = await Promise.all([
    import("@aws-sdk/client-s3"),
    import("@aws-sdk/lib-storage"),
  ]);
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint === null ? {} : { endpoint: settings.endpoint, forcePathStyle: true }),
    ...(settings.credentials === null ? {} : { credentials: settings.credentials }),
    // The SDK's default checksums wrap streamed bodies in aws-chunked framing that several
    // S3-compatible stores save verbatim, corrupting the object (BUN-NOTES.md).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: MAX_ATTEMPTS,
    // Options for the SDK's default (node:http) handler.
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  });

  const isMissing = (e: unknown) => {
    const name = (e as { name?: string }).name;
    return name === "NoSuchKey" || name === "NotFound" || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
  };

  const get = async (key: string): Promise<Readable | null> => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (out.Body as Readable | undefined) ?? null;
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
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, StorageClass: "REDUCED_REDUNDANCY", ...(contentType ? { ContentType: contentType } : {}) },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      await upload.done();
    },
    async putText(key, text, contentType) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, StorageClass: "REDUCED_REDUNDANCY", ...(contentType ? { ContentType: contentType } : {}) }),
      );
    },
  };
}
