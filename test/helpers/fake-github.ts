// A fake GitHub API of our own on 127.0.0.1 (the real one is unreachable from tests), with the
// three endpoints commit statuses use: installation tokens, posting a status, listing a
// commit's statuses. It checks what GitHub checks (the app JWT's RS256 signature against the
// app's public key and its `iss`; installation tokens on the status endpoints) and records each
// call as one line, with commit ids and tokens replaced by stable names:
//   POST /app/installations/123/access_tokens -> 201 token 1
//   POST /repos/o/r/statuses/<sha1> {"context":"t",...} [token 1] -> 201
//   GET /repos/o/r/commits/<sha1>/statuses?per_page=100&page=1 [token 1] -> 200 (1 status)
// Tests steer it: token lifetimes (real, and the one reported in `expires_at`), failing or
// hanging the next requests, expiring every token issued so far. The same controls are served
// under /_fake/ for scripts (test/helpers/fake-github-cli.ts).
import { verify, type KeyObject } from "node:crypto";

/** What the fake is the API of. */
export interface FakeGithubOptions {
  appId: string;
  installationId: string;
  owner: string;
  repo: string;
  /** The app's public key: JWTs must verify against it. */
  publicKey: KeyObject;
  /** How long issued tokens really work, in seconds. */
  tokenLifetimeSeconds: number;
  /** The lifetime `expires_at` reports; longer than the real one, it provokes a 401. */
  reportedLifetimeSeconds: number;
}

/** A running fake. */
export interface FakeGithub {
  /** The API URL, for GITHUB_API_URL. */
  url: string;
  /** The recorded calls, in order. */
  calls: string[];
  /** Every token issued and every JWT received: they must appear in no output or log. */
  secrets(): string[];
  /** The next `count` API requests answer `status` (without doing anything). */
  failNext(status: number, count: number): void;
  /** The next `count` API requests get no answer until the client gives up. */
  hangNext(count: number): void;
  /** Every token issued so far stops working (their reported expiry is unchanged). */
  expireTokens(): void;
  close(): Promise<void>;
}

interface Token {
  value: string;
  number: number;
  expiresAt: number;
}

interface Status {
  id: number;
  context: string;
  state: string;
  description: string | null;
  target_url: string | null;
  created_at: string;
}

const STATES = new Set(["error", "failure", "pending", "success"]);

/** Starts a fake on a free port of 127.0.0.1. */
export function startFakeGithub(opts: FakeGithubOptions): FakeGithub {
  const calls: string[] = [];
  const tokens = new Map<string, Token>();
  const jwts: string[] = [];
  const statuses = new Map<string, Status[]>();
  const shaNames = new Map<string, string>();
  const faults: ({ kind: "fail"; status: number } | { kind: "hang" })[] = [];
  const hung = new Set<() => void>();
  let nextStatusId = 1;

  const shaName = (sha: string) => {
    if (!shaNames.has(sha)) shaNames.set(sha, `<sha${shaNames.size + 1}>`);
    return shaNames.get(sha)!;
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8" } });
  const problem = (status: number, message: string) => json(status, { message, documentation_url: "https://docs.github.com/rest", status: String(status) });

  /** The token of a request, or why it is refused. */
  const authorise = (req: Request): { token: Token } | { refused: string } => {
    const header = req.headers.get("authorization") ?? "";
    const m = /^(?:token|bearer) (.+)$/i.exec(header);
    if (!m) return { refused: "no token" };
    const token = tokens.get(m[1]!);
    if (!token) return { refused: "unknown token" };
    if (Date.now() >= token.expiresAt) return { refused: `token ${token.number} expired` };
    return { token };
  };

  /** Why a JWT is refused, or null if GitHub would accept it. */
  const checkJwt = (req: Request): string | null => {
    const m = /^bearer (.+)$/i.exec(req.headers.get("authorization") ?? "");
    if (!m) return "no JWT";
    const jwt = m[1]!;
    jwts.push(jwt);
    const [h = "", p = "", s = ""] = jwt.split(".");
    let header: { alg?: string };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(h, "base64url").toString());
      claims = JSON.parse(Buffer.from(p, "base64url").toString());
    } catch {
      return "JWT not decodable";
    }
    if (header.alg !== "RS256") return `JWT alg ${header.alg}`;
    if (!verify("sha256", Buffer.from(`${h}.${p}`), opts.publicKey, Buffer.from(s, "base64url"))) return "JWT signature invalid";
    if (String(claims.iss) !== opts.appId) return `JWT iss ${JSON.stringify(claims.iss)}`;
    const now = Date.now() / 1000;
    if (typeof claims.iat !== "number" || typeof claims.exp !== "number") return "JWT without iat/exp";
    if (claims.iat > now + 60) return "JWT iat in the future";
    if (claims.exp <= now) return "JWT expired";
    if (claims.exp - claims.iat > 600) return "JWT valid for more than 10 minutes";
    return null;
  };

  const issueToken = (): Token => {
    const number = tokens.size + 1;
    const value = `ghs_fake${number}${crypto.randomUUID().replaceAll("-", "")}`;
    const token = { value, number, expiresAt: Date.now() + opts.tokenLifetimeSeconds * 1000 };
    tokens.set(value, token);
    return token;
  };

  const api = async (req: Request, url: URL): Promise<Response> => {
    const path = url.pathname;
    const shown = path.replace(/\/([0-9a-f]{40})(?=\/|$)/g, (_, sha: string) => `/${shaName(sha)}`) + url.search;
    const body = req.method === "POST" ? await req.text() : "";
    const line = `${req.method} ${shown}${body !== "" && !path.startsWith("/app/") ? ` ${body}` : ""}`;

    const fault = faults.shift();
    if (fault?.kind === "fail") {
      calls.push(`${line} -> ${fault.status} (injected)`);
      return problem(fault.status, "Injected failure");
    }
    if (fault?.kind === "hang") {
      calls.push(`${line} -> no answer (injected)`);
      return new Promise((resolve) => {
        const answer = () => resolve(problem(503, "closing"));
        hung.add(answer);
      });
    }

    let m = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path);
    if (m && req.method === "POST") {
      const refused = checkJwt(req);
      if (refused !== null) {
        calls.push(`${line} -> 401 (${refused})`);
        return problem(401, "A JSON web token could not be decoded");
      }
      if (m[1] !== opts.installationId) {
        calls.push(`${line} -> 404`);
        return problem(404, "Not Found");
      }
      const token = issueToken();
      const expiresAt = new Date(Date.now() + opts.reportedLifetimeSeconds * 1000);
      calls.push(`${line} -> 201 token ${token.number}`);
      // GitHub's format: whole seconds, `Z`.
      return json(201, { token: token.value, expires_at: expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z"), permissions: { statuses: "write" }, repository_selection: "all" });
    }

    m = /^\/repos\/([^/]+)\/([^/]+)\/(?:statuses\/([^/]+)|commits\/([^/]+)\/statuses)$/.exec(path);
    if (m) {
      const auth = authorise(req);
      if ("refused" in auth) {
        calls.push(`${line} -> 401 (${auth.refused})`);
        return problem(401, "Bad credentials");
      }
      const who = `${line} [token ${auth.token.number}]`;
      if (m[1] !== opts.owner || m[2] !== opts.repo) {
        calls.push(`${who} -> 404`);
        return problem(404, "Not Found");
      }
      if (m[3] !== undefined && req.method === "POST") {
        let status: Partial<Status>;
        try {
          status = JSON.parse(body);
        } catch {
          calls.push(`${who} -> 400`);
          return problem(400, "Problems parsing JSON");
        }
        if (typeof status.state !== "string" || !STATES.has(status.state)) {
          calls.push(`${who} -> 422`);
          return problem(422, "Validation Failed");
        }
        const saved: Status = {
          id: nextStatusId++,
          context: status.context ?? "default",
          state: status.state,
          description: status.description ?? null,
          target_url: status.target_url ?? null,
          created_at: new Date().toISOString(),
        };
        statuses.set(m[3], [saved, ...(statuses.get(m[3]) ?? [])]);
        calls.push(`${who} -> 201`);
        return json(201, saved);
      }
      if (m[4] !== undefined && req.method === "GET") {
        const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
        const page = Math.max(1, Number(url.searchParams.get("page") ?? 1));
        const all = statuses.get(m[4]) ?? [];
        const items = all.slice((page - 1) * perPage, page * perPage);
        calls.push(`${who} -> 200 (${items.length} status${items.length === 1 ? "" : "es"})`);
        return json(200, items);
      }
    }
    calls.push(`${line} -> 404`);
    return problem(404, "Not Found");
  };

  const control = (url: URL): Response => {
    const n = Number(url.searchParams.get("count") ?? 1);
    switch (url.pathname) {
      case "/_fake/fail":
        fake.failNext(Number(url.searchParams.get("status") ?? 500), n);
        break;
      case "/_fake/hang":
        fake.hangNext(n);
        break;
      case "/_fake/expire-tokens":
        fake.expireTokens();
        break;
      default:
        return new Response("unknown control\n", { status: 404 });
    }
    return new Response("ok\n");
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // A hung request must outlast the client's timeout; Bun's default idle timeout is 10 s.
    idleTimeout: 0,
    fetch(req) {
      const url = new URL(req.url);
      return url.pathname.startsWith("/_fake/") ? control(url) : api(req, url);
    },
  });

  const fake: FakeGithub = {
    url: `http://127.0.0.1:${server.port}`,
    calls,
    secrets: () => [...tokens.keys(), ...jwts],
    failNext(status, count) {
      for (let i = 0; i < count; i++) faults.push({ kind: "fail", status });
    },
    hangNext(count) {
      for (let i = 0; i < count; i++) faults.push({ kind: "hang" });
    },
    expireTokens() {
      for (const t of tokens.values()) t.expiresAt = Math.min(t.expiresAt, Date.now());
    },
    async close() {
      for (const answer of hung) answer();
      await server.stop(true);
    },
  };
  return fake;
}
