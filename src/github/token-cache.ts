import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../state/atomic-file.ts";

// The machine-wide installation token cache, `<state>/.github-token-cache.json` (SPEC §7):
//   {"cachedToken":"ghs_…","cachedExpiresAt":"2025-01-01T12:00:00.000Z","cachedFor":"…"}
// `cachedExpiresAt` is an ISO-8601 UTC string (what the earlier implementation's JSON encoding
// of a time gives, and what GitHub's `expires_at` is). `cachedFor` is ours: the API URL and
// installation the token belongs to, so builds of two installations sharing a state directory
// never use each other's token. A file without it (written by the earlier implementation) is
// taken to be for the current installation.

/** A cached installation token. */
export interface CachedToken {
  token: string;
  expiresAt: Date;
  /** `<api url>#<installation id>`, or null if the file did not say. */
  scope: string | null;
}

/** Why a cached token can or cannot be used. */
export type Freshness =
  /** Valid for longer than the refresh threshold: use it. */
  | "fresh"
  /** No cache file, or one that cannot be read. */
  | "missing"
  /** Expires within the threshold (or has expired): refresh. */
  | "expiring"
  /** Belongs to another installation or API: refresh. */
  | "other-installation";

/** The token-cache scope of an installation. */
export function tokenScope(apiUrl: string, installationId: string): string {
  return `${apiUrl}#${installationId}`;
}

/** Whether a cached token may be used at `now` (pure). */
export function freshness(cached: CachedToken | null, scope: string, now: Date, thresholdSeconds: number): Freshness {
  if (cached === null) return "missing";
  if (cached.scope !== null && cached.scope !== scope) return "other-installation";
  const remainingMs = cached.expiresAt.getTime() - now.getTime();
  return remainingMs > thresholdSeconds * 1000 ? "fresh" : "expiring";
}

/** Parses the cache file's text; anything malformed is null, as if there were no file (pure). */
export function parseTokenCache(text: string): CachedToken | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (v === null || typeof v !== "object") return null;
  const { cachedToken, cachedExpiresAt, cachedFor } = v;
  if (typeof cachedToken !== "string" || cachedToken === "" || typeof cachedExpiresAt !== "string") return null;
  const expiresAt = new Date(cachedExpiresAt);
  if (Number.isNaN(expiresAt.getTime())) return null;
  return { token: cachedToken, expiresAt, scope: typeof cachedFor === "string" ? cachedFor : null };
}

/** The cache file's text (pure). */
export function formatTokenCache(t: CachedToken): string {
  return JSON.stringify({ cachedToken: t.token, cachedExpiresAt: t.expiresAt.toISOString(), ...(t.scope === null ? {} : { cachedFor: t.scope }) });
}

/** Reads the cache file; missing or unreadable is null. Call under the cache lock. */
export function readTokenCache(path: string): CachedToken | null {
  try {
    return parseTokenCache(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}

/**
 * Writes the cache file atomically (temp file + rename), readable by its owner only: it holds
 * a credential. Call under the cache lock. Throws on I/O errors.
 */
export function writeTokenCache(path: string, t: CachedToken): void {
  writeFileAtomic(path, formatTokenCache(t), { mode: 0o600 });
}
