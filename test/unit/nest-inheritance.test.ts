// What a child inherits, as inheritance.ts makes it comparable: every difference a child would
// get makes the texts differ, and what a child never gets (counters, memory, the soft limit of
// open files that Bun raises anyway) leaves them equal.
import { describe, expect, test } from "bun:test";
import { changeableText, fixedText, NAMESPACES, passedThrough, startTimeOf, type Changeable, type Fixed } from "../../src/nest/inheritance.ts";

/** A /proc/PID/limits line as the kernel prints it ("%-25s %-20s %-20s %-10s"). */
const limit = (name: string, soft: string, hard: string, units = "") => `${name.padEnd(25)} ${soft.padEnd(20)} ${hard.padEnd(20)} ${units.padEnd(10)}`;

function limits(over: Record<string, [string, string]> = {}): string {
  const rows: [string, string, string, string][] = [
    ["Max cpu time", "unlimited", "unlimited", "seconds"],
    ["Max stack size", "8388608", "unlimited", "bytes"],
    ["Max core file size", "0", "unlimited", "bytes"],
    ["Max open files", "20000", "20000", "files"],
    ["Max address space", "unlimited", "unlimited", "bytes"],
  ];
  const lines = rows.map(([name, soft, hard, units]) => {
    const [s, h] = over[name] ?? [soft, hard];
    return limit(name, s, h, units);
  });
  return `${limit("Limit", "Soft Limit", "Hard Limit", "Units")}\n${lines.join("\n")}\n`;
}

/** A /proc/PID/stat line: fields from 3 on, with `set` replacing some (by proc(5) number). */
function stat(comm: string, set: Record<number, string> = {}): string {
  const fields = Array.from({ length: 52 - 2 }, (_, i) => set[i + 3] ?? String(i + 3));
  // nice 0, real-time priority 0, policy 0 unless set.
  for (const [n, v] of [[19, "0"], [40, "0"], [41, "0"]] as const) fields[n - 3] = set[n] ?? v;
  return `4242 (${comm}) ${fields.join(" ")}\n`;
}

function status(over: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    Name: "bash",
    Umask: "0022",
    State: "S (sleeping)",
    Pid: "4242",
    Uid: "1000\t1000\t1000\t1000",
    Gid: "1000\t1000\t1000\t1000",
    FDSize: "64",
    Groups: "27 100 ",
    VmRSS: "3400 kB",
    CapInh: "0000000000000000",
    CapEff: "0000000000000000",
    NoNewPrivs: "0",
    Seccomp: "0",
    Cpus_allowed_list: "0-1",
    Mems_allowed_list: "0",
    voluntary_ctxt_switches: "12",
    ...over,
  };
  return `${Object.entries(fields)
    .map(([k, v]) => `${k}:\t${v}`)
    .join("\n")}\n`;
}

const base: Changeable = {
  limits: limits(),
  stat: stat("bash"),
  status: status(),
  oomScoreAdj: "0\n",
  cgroup: "0::/user.slice/session-1.scope\n",
  ioPriority: 0,
};

describe("changeableText", () => {
  const same: [string, Partial<Changeable>][] = [
    ["the soft limit of open files (Bun raises it to the hard one)", { limits: limits({ "Max open files": ["1024", "20000"] }) }],
    ["another command name, with spaces and parentheses", { stat: stat("my (odd) name") }],
    ["CPU times, memory and the state (stat fields 3, 14, 23)", { stat: stat("bash", { 3: "R", 14: "999", 23: "123456" }) }],
    ["memory, state, descriptors and counters in status", { status: status({ VmRSS: "9999 kB", State: "R (running)", FDSize: "256", voluntary_ctxt_switches: "99" }) }],
    ["the pid and name in status", { status: status({ Pid: "1", Name: "sh" }) }],
  ];
  test.each(same)("a child gets the same whatever %s", (_what, change) => {
    expect(changeableText({ ...base, ...change })).toBe(changeableText(base));
  });

  const differ: [string, Partial<Changeable>][] = [
    ["the stack limit (ulimit -s)", { limits: limits({ "Max stack size": ["unlimited", "unlimited"] }) }],
    ["the core size limit (ulimit -c)", { limits: limits({ "Max core file size": ["unlimited", "unlimited"] }) }],
    ["the hard limit of open files (ulimit -Hn)", { limits: limits({ "Max open files": ["1000", "1000"] }) }],
    ["the address space (ulimit -v)", { limits: limits({ "Max address space": ["4096000000", "unlimited"] }) }],
    ["the nice value (stat field 19)", { stat: stat("bash", { 19: "5" }) }],
    ["the nice value, behind a command name with ') '", { stat: stat("a) 1 2 (b", { 19: "-3" }) }],
    ["the real-time priority (field 40)", { stat: stat("bash", { 40: "10" }) }],
    ["the scheduling policy (field 41)", { stat: stat("bash", { 41: "1" }) }],
    ["the umask (the modes of its state files too)", { status: status({ Umask: "0077" }) }],
    ["the CPUs (taskset)", { status: status({ Cpus_allowed_list: "0" }) }],
    ["the memory nodes", { status: status({ Mems_allowed_list: "1" }) }],
    ["the user", { status: status({ Uid: "1001\t1001\t1001\t1001" }) }],
    ["the supplementary groups (sg)", { status: status({ Groups: "27 " }) }],
    ["the inheritable capabilities", { status: status({ CapInh: "0000000000000400" }) }],
    ["no_new_privs (setpriv)", { status: status({ NoNewPrivs: "1" }) }],
    ["seccomp", { status: status({ Seccomp: "2" }) }],
    ["the OOM score adjustment (choom)", { oomScoreAdj: "500\n" }],
    ["the cgroup", { cgroup: "0::/user.slice/other.scope\n" }],
    ["the I/O priority (ionice)", { ioPriority: (3 << 13) | 0 }],
    ["an I/O priority that cannot be read", { ioPriority: null }],
  ];
  test.each(differ)("a child gets another %s", (_what, change) => {
    expect(changeableText({ ...base, ...change })).not.toBe(changeableText(base));
  });
});

describe("fixedText", () => {
  const fixed: Fixed = { personality: "00000000\n", root: "/", namespaces: NAMESPACES.map((ns) => `${ns}:[4026531835]`) };
  const differ: [string, Partial<Fixed>][] = [
    ["execution domain (setarch -R)", { personality: "00040000\n" }],
    ["root (chroot)", { root: "/srv/jail" }],
    ["mount namespace (unshare -m)", { namespaces: fixed.namespaces.map((n, i) => (NAMESPACES[i] === "mnt" ? "mnt:[4026532999]" : n)) }],
    ["namespace the kernel does not have", { namespaces: fixed.namespaces.map((n, i) => (NAMESPACES[i] === "time_for_children" ? null : n)) }],
  ];
  test.each(differ)("a child gets another %s", (_what, change) => {
    expect(fixedText({ ...fixed, ...change })).not.toBe(fixedText(fixed));
  });
  test("the same process's texts are equal", () => {
    expect(fixedText({ ...fixed, namespaces: [...fixed.namespaces] })).toBe(fixedText(fixed));
  });
});

describe("startTimeOf", () => {
  test.each([
    ["bash", "3174897"],
    ["a) (b c", "3174897"],
  ])("field 22 of a process named %p", (comm, start) => {
    expect(startTimeOf(stat(comm, { 22: start }))).toBe(start);
  });
});

describe("passedThrough", () => {
  test.each<[string, string[], [string, string][]]>([
    ["shell variables are bash's to pass (declare -px)", ["HOME=/root", "_x1=a", "PATH=/bin"], []],
    ["names that are no identifiers pass as they are", ["FOO-BAR=1", "a.b=x y", "1ABC=", "x y=3", "ÄÖ=2"], [["FOO-BAR", "1"], ["a.b", "x y"], ["1ABC", ""], ["x y", "3"], ["ÄÖ", "2"]]],
    ["values keep their = signs and newlines", ["a-b=c=d\ne"], [["a-b", "c=d\ne"]]],
    ["exported functions are bash's (declare -fx)", ["BASH_FUNC_f%%=() {  echo f\n}"], []],
    ["but a BASH_FUNC_ entry that is no function passes as it is", ["BASH_FUNC_bad%%=notafunction"], [["BASH_FUNC_bad%%", "notafunction"]]],
    ["and one without %% is a shell variable", ["BASH_FUNC_nofn=() { :; }"], []],
    ["entries without a name or without = are dropped", ["=empty", "noequals", ""], []],
  ])("%s", (_what, entries, expected) => {
    expect(passedThrough(entries.join("\0") + "\0")).toEqual(expected);
  });
});
