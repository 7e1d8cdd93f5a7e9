// The `# github` directive of golden cases: a fake GitHub API per case, the settings that point
// taskrunner at it, a `github-fake` command to steer it, and the report appended to the case's
// output: the calls the fake got, and any credential found where it must not be.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { startFakeGithub } from "./fake-github.ts";

/** Options of `# github: ...`. */
export interface GithubOptions {
  /** The private key with `|` for each newline. */
  pipes: boolean;
  tokenLifetimeSeconds: number;
  reportedLifetimeSeconds: number | null;
  /** Sort the recorded calls (their order is not deterministic with parallel tasks). */
  sort: boolean;
}

/** Parses `key=pipes token-lifetime=S reported-lifetime=S sort`. */
export function parseGithubOptions(value: string): GithubOptions {
  const o: GithubOptions = { pipes: false, tokenLifetimeSeconds: 3600, reportedLifetimeSeconds: null, sort: false };
  for (const word of value.split(/\s+/).filter(Boolean)) {
    const [k, v = ""] = word.split("=");
    if (k === "key" && v === "pipes") o.pipes = true;
    else if (k === "token-lifetime") o.tokenLifetimeSeconds = Number(v);
    else if (k === "reported-lifetime") o.reportedLifetimeSeconds = Number(v);
    else if (k === "sort") o.sort = true;
    else throw new Error(`unknown github option ${word}`);
  }
  return o;
}

// One key pair for the whole run: generating one takes a while.
let keys: { privatePem: string; publicKey: KeyObject } | null = null;
function keyPair() {
  if (keys === null) {
    // PKCS#1, the format of the .pem files GitHub hands out.
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    keys = { privatePem: pair.privateKey.export({ type: "pkcs1", format: "pem" }).toString(), publicKey: pair.publicKey };
  }
  return keys;
}

/** The identifiers the fake serves; the cases' expected outputs show them. */
export const APP = { appId: "4242", installationId: "123", owner: "o", repo: "r" };

/** A case's fake GitHub. */
export interface GithubCase {
  env: Record<string, string>;
  /** The text appended to the case's output (call it after the run). */
  report(output: string, root: string, state: string): string;
  close(): Promise<void>;
}

/** Starts the fake and writes `github-fake` into binDir. */
export async function githubSetup(o: GithubOptions, binDir: string): Promise<GithubCase> {
  const { privatePem, publicKey } = keyPair();
  const fake = startFakeGithub({
    ...APP,
    publicKey,
    tokenLifetimeSeconds: o.tokenLifetimeSeconds,
    reportedLifetimeSeconds: o.reportedLifetimeSeconds ?? o.tokenLifetimeSeconds,
  });
  mkdirSync(binDir, { recursive: true });
  const cli = join(import.meta.dir, "fake-github-cli.ts");
  writeFileSync(join(binDir, "github-fake"), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
  chmodSync(join(binDir, "github-fake"), 0o755);
  const env = {
    TASKRUNNER_ENABLE_COMMIT_STATUS: "1",
    GITHUB_APP_ID: APP.appId,
    GITHUB_INSTALLATION_ID: APP.installationId,
    GITHUB_APP_PRIVATE_KEY: o.pipes ? privatePem.trim().replaceAll("\n", "|") : privatePem,
    GITHUB_REPOSITORY_OWNER: APP.owner,
    // As GitHub Actions sets it.
    GITHUB_REPOSITORY: `${APP.owner}/${APP.repo}`,
    GITHUB_API_URL: fake.url,
  };
  // Lines of the key's body: any one of them in a log would be a leak.
  const keyLines = privatePem.split("\n").filter((l) => l.length >= 20 && !l.startsWith("-----"));

  return {
    env,
    report(output, root, state) {
      const calls = o.sort ? [...fake.calls].sort() : fake.calls;
      // Build ids (in log URLs) differ from run to run.
      let text = `--- github calls\n${calls.map((c) => `${c.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z-\d+/g, "BUILD")}\n`).join("")}`;
      const secrets = [...fake.secrets(), ...keyLines];
      const cache = join(state, ".github-token-cache.json");
      const places: [string, string][] = [["the output", output]];
      for (const file of new Bun.Glob("**").scanSync({ cwd: root, dot: true, onlyFiles: true })) {
        const path = join(root, file);
        if (path !== cache) places.push([relative(root, path), readFileSync(path, "latin1")]);
      }
      for (const [where, body] of places) {
        if (secrets.some((s) => body.includes(s))) text += `!!! leaked a credential in ${where}\n`;
      }
      return text;
    },
    close: () => fake.close(),
  };
}
