// The pure parts of GitHub App authentication: the JWT, the private key, the repository, the
// redaction of secrets.
import { test, expect } from "bun:test";
import { generateKeyPairSync, verify } from "node:crypto";
import { inspect } from "node:util";
import { appJwt, jwtClaims, JWT_HEADER } from "../../src/github/jwt.ts";
import { checkPrivateKey, normalisePrivateKey } from "../../src/github/private-key.ts";
import { parseRepository } from "../../src/github/repository.ts";
import { Secret } from "../../src/github/secret.ts";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PKCS1 = rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const PKCS8 = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const EC = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }).toString();

const claims: [string, number, { iat: number; exp: number; iss: string }][] = [
  ["12345", 1_700_000_000, { iat: 1_699_999_940, exp: 1_700_000_300, iss: "12345" }],
  ["12345", 1_700_000_000.9, { iat: 1_699_999_940, exp: 1_700_000_300, iss: "12345" }],
  ["Iv1.abc", 0, { iat: -60, exp: 300, iss: "Iv1.abc" }],
];

test.each(claims)("jwtClaims(%j, %d): iat 60 s back, exp 5 minutes ahead", (appId, now, expected) => {
  expect(jwtClaims(appId, now)).toEqual(expected);
  // GitHub refuses a JWT valid for more than 10 minutes.
  expect(expected.exp - expected.iat).toBeLessThanOrEqual(600);
});

test("appJwt is header.claims.signature, RS256-signed with the key, base64url without padding", () => {
  const jwt = appJwt("4242", PKCS1, 1_700_000_000);
  const [h, p, s] = jwt.split(".") as [string, string, string];
  expect(jwt).not.toContain("=");
  expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual(JWT_HEADER);
  expect(JWT_HEADER).toEqual({ alg: "RS256", typ: "JWT" });
  expect(JSON.parse(Buffer.from(p, "base64url").toString())).toEqual({ iat: 1_699_999_940, exp: 1_700_000_300, iss: "4242" });
  expect(verify("sha256", Buffer.from(`${h}.${p}`), rsa.publicKey, Buffer.from(s, "base64url"))).toBe(true);
  expect(verify("sha256", Buffer.from(`${h}.${p}x`), rsa.publicKey, Buffer.from(s, "base64url"))).toBe(false);
});

test("a PKCS#8 key signs the same way", () => {
  const [h, p, s] = appJwt("1", PKCS8, 0).split(".") as [string, string, string];
  expect(verify("sha256", Buffer.from(`${h}.${p}`), rsa.publicKey, Buffer.from(s, "base64url"))).toBe(true);
});

const oneLine = PKCS1.trim().replaceAll("\n", "|");
const normalised: [string, string, string][] = [
  ["real newlines", PKCS1, PKCS1],
  ["| for each newline", oneLine, PKCS1],
  ["| and a trailing |", `${oneLine}|`, PKCS1],
  ["CRLF line ends", PKCS1.replaceAll("\n", "\r\n"), PKCS1],
  ["surrounding white space", `  \n${PKCS1}\n\n `, PKCS1],
  ["small", "a|b", "a\nb\n"],
  ["empty", "", ""],
  ["blank", " \n ", ""],
];

test.each(normalised)("normalisePrivateKey: %s", (_, raw, expected) => {
  expect(normalisePrivateKey(raw)).toBe(expected);
});

test.each([
  ["PKCS#1", PKCS1],
  ["PKCS#8", PKCS8],
])("checkPrivateKey accepts an RSA key in %s", (_, pem) => {
  expect(checkPrivateKey(pem)).toEqual({ ok: true, value: pem });
});

const badKeys: [string, string, RegExp][] = [
  ["empty", "", /^GITHUB_APP_PRIVATE_KEY is not a PEM private key/],
  ["not PEM", "hello\n", /^GITHUB_APP_PRIVATE_KEY is not a PEM private key/],
  ["a public key", rsa.publicKey.export({ type: "spki", format: "pem" }).toString(), /^GITHUB_APP_PRIVATE_KEY is not a PEM private key/],
  ["an EC key", EC, /^GITHUB_APP_PRIVATE_KEY is not a PEM private key/],
  ["an EC key as PKCS#8", generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(), /^GITHUB_APP_PRIVATE_KEY is not an RSA key \(it is ec\); GitHub Apps sign with RSA/],
  ["a damaged body", PKCS1.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!"), /^GITHUB_APP_PRIVATE_KEY could not be read as an RSA private key \(/],
  ["a truncated key", PKCS1.slice(0, 200), /^GITHUB_APP_PRIVATE_KEY could not be read as an RSA private key \(/],
];

test.each(badKeys)("checkPrivateKey refuses %s, without quoting it", (_, pem, message) => {
  const r = checkPrivateKey(pem);
  if (r.ok) throw new Error("accepted");
  expect(r.error).toMatch(message);
  const body = pem.split("\n").find((l) => l.length > 20 && !l.startsWith("-----"));
  if (body !== undefined) expect(r.error).not.toContain(body);
});

const repositories: [string, string, { owner: string; repo: string } | string][] = [
  ["r", "o", { owner: "o", repo: "r" }],
  ["o/r", "o", { owner: "o", repo: "r" }],
  ["Octo-Org/my.repo_1", "octo-org", { owner: "octo-org", repo: "my.repo_1" }],
  ["other/r", "o", 'GITHUB_REPOSITORY is "other/r" but GITHUB_REPOSITORY_OWNER is "o"; make them name the same owner (or give GITHUB_REPOSITORY as a bare name)'],
  ["a/b/c", "a", 'GITHUB_REPOSITORY must be a repository name or owner/name, got "a/b/c"'],
  ["o/", "o", 'GITHUB_REPOSITORY must be a repository name or owner/name, got "o/"'],
  ["/r", "o", 'GITHUB_REPOSITORY must be a repository name or owner/name, got "/r"'],
  ["r?x=1", "o", 'GITHUB_REPOSITORY must be a repository name or owner/name, got "r?x=1"'],
  ["r", "o/x", 'GITHUB_REPOSITORY_OWNER must be a GitHub user or organisation name, got "o/x"'],
];

test.each(repositories)("parseRepository(%j, owner %j)", (repository, owner, expected) => {
  expect(parseRepository(repository, owner)).toEqual(typeof expected === "string" ? { ok: false, error: expected } : { ok: true, value: expected });
});

test("a Secret shows as [redacted] wherever it could be printed", () => {
  const s = new Secret("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n");
  expect(String(s)).toBe("[redacted]");
  expect(`${s}`).toBe("[redacted]");
  expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
  expect(inspect({ s })).toBe("{ s: [redacted] }");
  expect(Bun.inspect(s)).not.toContain("AAAA");
  expect(s.reveal()).toContain("AAAA");
});
