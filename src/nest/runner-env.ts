// The variables a runner's own process reads from its environment, besides the invocation's
// environment that it passes on and reads settings from (pure). A nested executable started
// by a caller has the caller's as its own; a top-level runner serving the call has the top
// level's. Where they differ, the executable would behave otherwise, so the call is its to run:
// - `TZ`: the local time of every line's timestamp;
// - `LD_*` (`LD_PRELOAD`, `LD_LIBRARY_PATH`), `FAKETIME*` (libfaketime) and `BUN_*`: what the
//   runtime itself loads, which clock it reads and how it runs;
// - for a call that reaches the network (remote cache, log upload, commit statuses), what the AWS
//   SDK's default credential chain reads (`AWS_*`, `HOME` for ~/.aws), the proxies fetch
//   honours (`HTTPS_PROXY`, `no_proxy`...) and the certificates TLS trusts
//   (`NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`...). A call that uses none keeps the fast path when
//   a script changes them: `HOME=$(mktemp -d)` to keep git from the user's configuration is
//   common. Not `NODE_ENV` and the like, which the runtime does not read.

const ALWAYS_PREFIXES = ["LD_", "FAKETIME", "BUN_"];
const NETWORK_NAMES = new Set(["HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_USE_SYSTEM_CA"]);

function read(name: string, network: boolean): boolean {
  if (name === "TZ" || ALWAYS_PREFIXES.some((p) => name.startsWith(p))) return true;
  if (!network) return false;
  return NETWORK_NAMES.has(name) || name.startsWith("AWS_") || /_proxy$/i.test(name);
}

/**
 * The first variable a runner process reads that `caller` (the call's environment) and `own`
 * (this process's) hold differently, set in one and not the other included; null if none.
 * `network`: whether the call's settings reach the network.
 */
export function runnerEnvDifference(caller: Readonly<Record<string, string>>, own: Readonly<Record<string, string | undefined>>, network: boolean): string | null {
  for (const name in caller) if (read(name, network) && caller[name] !== own[name]) return name;
  for (const name in own) if (read(name, network) && own[name] !== undefined && caller[name] === undefined) return name;
  return null;
}
