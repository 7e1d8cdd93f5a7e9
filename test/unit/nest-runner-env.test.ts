// Which differences in a call's environment a runner's own process would notice (runner-env.ts):
// those make the call the executable's, the rest keep the fast path.
import { expect, test } from "bun:test";
import { runnerEnvDifference } from "../../src/nest/runner-env.ts";

const own = { PATH: "/usr/bin:/bin", HOME: "/home/u", TZ: "Europe/Paris", LANG: "C.UTF-8" };

test.each<[string, Record<string, string>, boolean, string | null]>([
  ["the same environment", { ...own }, false, null],
  ["other variables the invocation reads itself (PATH, LANG, TMPDIR, GIT_DIR, TASKRUNNER_*)", { ...own, PATH: "/x", LANG: "C", TMPDIR: "/t", GIT_DIR: "/g", TASKRUNNER_QUIET: "1" }, true, null],
  ["another time zone", { ...own, TZ: "Asia/Tokyo" }, false, "TZ"],
  ["no time zone where this process has one", { PATH: own.PATH, HOME: own.HOME, LANG: own.LANG }, false, "TZ"],
  ["a preloaded library", { ...own, LD_PRELOAD: "/lib/libfaketime.so.1" }, false, "LD_PRELOAD"],
  ["a faked clock", { ...own, FAKETIME: "@2020-01-01 00:00:00" }, false, "FAKETIME"],
  ["a runtime option", { ...own, BUN_CONFIG_VERBOSE_FETCH: "curl" }, false, "BUN_CONFIG_VERBOSE_FETCH"],
  ["an AWS profile, no network", { ...own, AWS_PROFILE: "prod" }, false, null],
  ["an AWS profile, with the network", { ...own, AWS_PROFILE: "prod" }, true, "AWS_PROFILE"],
  ["another HOME, no network (git gets the call's own)", { ...own, HOME: "/tmp/h" }, false, null],
  ["another HOME, with the network (the SDK's ~/.aws)", { ...own, HOME: "/tmp/h" }, true, "HOME"],
  ["a proxy, with the network", { ...own, https_proxy: "http://p:3128" }, true, "https_proxy"],
  ["extra CA certificates, with the network", { ...own, NODE_EXTRA_CA_CERTS: "/ca.pem" }, true, "NODE_EXTRA_CA_CERTS"],
  ["NODE_ENV, with the network (the runtime does not read it)", { ...own, NODE_ENV: "production" }, true, null],
])("%s", (_what, caller, network, expected) => {
  expect(runnerEnvDifference(caller, own, network)).toBe(expected);
});
