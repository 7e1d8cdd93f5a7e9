import type { Readable } from "node:stream";

/**
 * An object store holding the cache: the interface the S3 backend implements (and a local
 * directory backend can). Methods throw on service errors; callers decide how to degrade.
 */
export interface ObjectStore {
  /** A streamed object body, or null if there is no such object. */
  get(key: string): Promise<Readable | null>;
  /** A small text object, or null if there is no such object. */
  getText(key: string): Promise<string | null>;
  /** Writes an object from a stream (multipart for large bodies; memory stays flat). */
  put(key: string, body: Readable, contentType?: string): Promise<void>;
  /** Writes a small text object. */
  putText(key: string, text: string, contentType?: string): Promise<void>;
  /** A short description for messages, e.g. `s3://bucket`. */
  readonly label: string;
}
