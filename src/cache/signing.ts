// Signed archives (TASKRUNNER_CACHE_SIGNING_KEY): an HMAC-SHA256 of each uploaded archive, kept
// in a small sidecar object `<archive key>.sig` next to it.
//
// Why a sidecar and not S3 user metadata: archives are streamed (multipart for large ones), so
// the HMAC is known only after the last byte was sent, but S3 takes metadata when an upload is
// created. Metadata would need a CopyObject of the whole archive afterwards (a second full
// write, and for objects over 5 GiB a multipart copy); the sidecar is one small PUT, works the
// same on every S3-compatible store and on the local directory store, and leaves the archive
// itself byte-for-byte what the earlier implementation wrote and reads.
//
// The MAC covers the archive's name as well as its bytes, so a signed archive cannot be
// replayed under another task's or hash's name by someone who can write to the bucket.
import { createHmac, timingSafeEqual, type Hmac } from "node:crypto";
import { Transform } from "node:stream";
import type { Secret } from "../github/secret.ts";

const SCHEME = "hmac-sha256";

/** The object key of an archive's signature. */
export function signatureKey(archiveKey: string): string {
  return `${archiveKey}.sig`;
}

/** Starts the MAC of the archive named `archive` (its bytes follow through `update`). */
export function archiveMac(key: Secret, archive: string): Hmac {
  return createHmac("sha256", key.reveal()).update(`taskrunner-archive\0${archive}\0`);
}

/** The sidecar's text for a finished MAC. */
export function formatSignature(mac: Hmac): string {
  return `${SCHEME}:${mac.digest("hex")}\n`;
}

/** Whether a sidecar's text is the signature of the finished MAC (constant-time compare). */
export function signatureMatches(text: string, mac: Hmac): boolean {
  const m = new RegExp(`^${SCHEME}:([0-9a-f]{64})$`).exec(text.trim());
  if (!m) return false;
  return timingSafeEqual(Buffer.from(m[1]!, "hex"), mac.digest());
}

/** A pass-through stream that feeds every byte to `mac` on the way (packing -> upload). */
export function macTap(mac: Hmac): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      mac.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * Feeds every chunk of `source` to `mac` as it is consumed (download -> unpack); `finished()`
 * is true once the source was read to its end, so a verifier knows the MAC covers all of it.
 */
export function macSource(source: AsyncIterable<Uint8Array>, mac: Hmac): { source: AsyncIterable<Uint8Array>; finished: () => boolean } {
  let finished = false;
  async function* tapped(): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      mac.update(chunk);
      yield chunk;
    }
    finished = true;
  }
  return { source: tapped(), finished: () => finished };
}
