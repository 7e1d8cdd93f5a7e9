import { sign } from "node:crypto";

// A GitHub App authenticates as itself with a JWT signed RS256 by its private key, and trades
// it for an installation token:
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
// GitHub refuses an `exp` more than 10 minutes ahead; SPEC §7 says valid 5 minutes.

/** `iat` is set this far in the past, so a machine clock slightly ahead of GitHub's is accepted. */
export const JWT_CLOCK_DRIFT_SECONDS = 60;
/** How long the JWT is valid from now (SPEC §7). */
export const JWT_LIFETIME_SECONDS = 5 * 60;

/** The JOSE header of an app JWT. */
export const JWT_HEADER = { alg: "RS256", typ: "JWT" } as const;

/** The claims of an app JWT issued at `nowSeconds` (Unix time). */
export interface JwtClaims {
  iat: number;
  exp: number;
  iss: string;
}

/** The claims for an app id at a time (pure). */
export function jwtClaims(appId: string, nowSeconds: number): JwtClaims {
  const now = Math.floor(nowSeconds);
  return { iat: now - JWT_CLOCK_DRIFT_SECONDS, exp: now + JWT_LIFETIME_SECONDS, iss: appId };
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * A signed app JWT. RSASSA-PKCS1-v1_5 with SHA-256 is RS256 (RFC 7518 §3.3); node:crypto does
 * the RSA.
 */
export function appJwt(appId: string, privateKeyPem: string, nowSeconds: number): string {
  const input = `${base64url(JSON.stringify(JWT_HEADER))}.${base64url(JSON.stringify(jwtClaims(appId, nowSeconds)))}`;
  const signature = sign("sha256", Buffer.from(input), privateKeyPem);
  return `${input}.${base64url(signature)}`;
}
