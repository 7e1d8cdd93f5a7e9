import { acquireLock } from "../state/lock.ts";
import { type Result, ok, err } from "../result.ts";
import type { ApiFailure } from "./retry.ts";
import { freshness, readTokenCache, writeTokenCache, type CachedToken } from "./token-cache.ts";

type Say = (level: "info" | "warn" | "error" | "debug", text: string) => void;

/** A token as GitHub issued it. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** What the token source needs. */
export interface TokenSourceOptions {
  /** `<state>/.github-token-cache.json`; its lock is the same path + `.lock`. */
  cachePath: string;
  /** Which installation the tokens are for (`tokenScope`). */
  scope: string;
  /** Refresh when fewer seconds than this remain (TASKRUNNER_GITHUB_TOKEN_REFRESH_THRESHOLD_SECONDS). */
  thresholdSeconds: number;
  /** Asks GitHub for a new installation token. */
  issue: () => Promise<Result<IssuedToken, ApiFailure>>;
  say: Say;
  now?: () => Date;
}

/**
 * Installation tokens shared by every process of the machine through the cache file. Each look
 * is made under an exclusive flock on the cache's lock file, held while a new token is
 * requested: parallel tasks that find no fresh token wait for the first one's request instead
 * of making their own, so a build makes one token request however many tasks it runs.
 * The cache is read for every API operation (not kept in memory), so a token another process
 * refreshed is picked up at once.
 */
export class InstallationTokens {
  private readonly now: () => Date;

  constructor(private readonly opts: TokenSourceOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /** A token valid for longer than the threshold, from the cache or new. */
  get(): Promise<Result<string, ApiFailure>> {
    return this.locked((cached) => {
      const state = freshness(cached, this.opts.scope, this.now(), this.opts.thresholdSeconds);
      if (state === "fresh") return true;
      this.opts.say("debug", `GitHub token: ${WHY[state](this.opts.thresholdSeconds)}, requesting a new one`);
      return false;
    });
  }

  /**
   * A new token after the API refused `rejected` (HTTP 401). If another process already put a
   * different fresh token in the cache (it saw the same 401 first), that one is used.
   */
  replace(rejected: string): Promise<Result<string, ApiFailure>> {
    return this.locked((cached) => {
      if (cached === null || cached.token === rejected) return false;
      return freshness(cached, this.opts.scope, this.now(), this.opts.thresholdSeconds) === "fresh";
    });
  }

  private async locked(useCached: (cached: CachedToken | null) => boolean): Promise<Result<string, ApiFailure>> {
    const { cachePath, say } = this.opts;
    let lock;
    try {
      lock = await acquireLock(`${cachePath}.lock`, () => say("debug", "GitHub token: waiting for the token cache lock"));
    } catch (e) {
      return err({ kind: "permanent", reason: e instanceof Error ? e.message : String(e) });
    }
    try {
      const cached = readTokenCache(cachePath);
      if (useCached(cached) && cached !== null) {
        say("debug", "GitHub token: using the cached installation token");
        return ok(cached.token);
      }
      const issued = await this.opts.issue();
      if (!issued.ok) return issued;
      say("debug", "GitHub token: got a new installation token");
      try {
        writeTokenCache(cachePath, { ...issued.value, scope: this.opts.scope });
      } catch (e) {
        // The token still works for this task; later tasks will request their own.
        say("debug", `GitHub token: could not write the token cache ${cachePath}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return ok(issued.value.token);
    } finally {
      lock.release();
    }
  }
}

const WHY: Record<Exclude<ReturnType<typeof freshness>, "fresh">, (threshold: number) => string> = {
  missing: () => "no cached installation token",
  expiring: (threshold) => `the cached installation token expires within ${threshold} s`,
  "other-installation": () => "the cached installation token is for another installation",
};
