// What a process passes on to the children it starts, beyond the working directory,
// environment and descriptors that a nested call sends or that serve.ts checks: the umask, limits
// (`ulimit`), scheduling (`nice`, `chrt`, `taskset`, `ionice`), credentials, capabilities and
// security flags (`setpriv`), the OOM score adjustment (`choom`), the execution domain
// (`setarch -R`), cgroups, the root and the namespaces (`unshare`, `chroot`). A nested executable
// started by a caller hands the caller's on to its task; a task served by the top-level runner
// gets the runner's. So a call is served only where the two are the same, and this module makes
// each process's into one text to compare. Pure: caller.ts reads the files from /proc.

/**
 * The /proc texts of one process that may change while it runs, from outside too (`renice -p`,
 * `prlimit --pid`, `taskset -p`, a cgroup move): read for every call.
 */
export interface Changeable {
  /** /proc/PID/limits. */
  limits: string;
  /** /proc/PID/stat. */
  stat: string;
  /** /proc/PID/status. */
  status: string;
  /** /proc/PID/oom_score_adj. */
  oomScoreAdj: string;
  /** /proc/PID/cgroup. */
  cgroup: string;
  /** ioprio_get(2) of the process; null where it cannot be read. */
  ioPriority: number | null;
}

/**
 * What only the process itself can change, with calls bash has no builtin for (personality(2),
 * chroot(2), setns(2), unshare(2)): read once per process, known by its pid and start time.
 */
export interface Fixed {
  /** /proc/PID/personality. */
  personality: string;
  /** The targets of /proc/PID/root and of each of its NAMESPACES links (null: none). */
  root: string;
  namespaces: (string | null)[];
}

/**
 * The namespaces a child is started in. The `_for_children` ones, not the process's own: after
 * `unshare --pid` without a fork, only the children are in the new namespace.
 */
export const NAMESPACES = ["cgroup", "ipc", "mnt", "net", "pid_for_children", "time_for_children", "user", "uts"] as const;

/**
 * The lines of /proc/PID/status a child inherits: its umask, credentials (real, effective,
 * saved and filesystem ids; supplementary groups), capability sets, no_new_privs and seccomp,
 * the CPUs and memory nodes it may run on, and the prctl flags that survive exec. The umask
 * also decides the modes of the state files a nested executable creates for its task (log,
 * hash, result, lock): a served task's are this process's, so only an equal one is served, and
 * a served task starts with this process's umask, which is then the caller's. Not the signal
 * mask or the ignored signals: Bun resets them in the children it starts, so a task gets the
 * same ones whichever runner starts it (measured with a caller ignoring HUP, INT, QUIT, PIPE
 * and TERM).
 */
const STATUS_FIELDS = [
  "Umask",
  "Uid",
  "Gid",
  "Groups",
  "CapInh",
  "CapPrm",
  "CapEff",
  "CapBnd",
  "CapAmb",
  "NoNewPrivs",
  "Seccomp",
  "Seccomp_filters",
  "Speculation_Store_Bypass",
  "SpeculationIndirectBranch",
  "Cpus_allowed_list",
  "Mems_allowed_list",
  "THP_enabled",
];

/**
 * One text of what a child inherits that `c` holds: two processes whose texts are equal (and
 * whose fixedText are) start children alike in all of it. The soft limit of open files is left
 * out: Bun raises it to the hard limit when it starts, so a nested executable's task gets the
 * hard limit as its soft one whatever the caller's soft limit was, as a served task does.
 */
export function changeableText(c: Changeable): string {
  return [limitsText(c.limits), schedulingText(c.stat), statusText(c.status), `oom_score_adj ${c.oomScoreAdj.trim()}`, `io ${c.ioPriority ?? "unknown"}`, c.cgroup.trimEnd()].join("\n");
}

/** One text of what a child inherits that `f` holds. */
export function fixedText(f: Fixed): string {
  return [`personality ${f.personality.trim()}`, `root ${f.root}`, ...NAMESPACES.map((ns, i) => `${ns} ${f.namespaces[i] ?? "none"}`)].join("\n");
}

/**
 * The variables of a bash's initial environment (/proc/PID/environ, decoded) that it passes on
 * to its children as they are: those whose names are no shell identifiers (`FOO-BAR`, `a.b`,
 * `1X`: a CI's job parameters, say; GitHub passes container actions' inputs as
 * `INPUT_SOME-NAME`). Bash (since 4.1) neither imports them nor lets a script change them,
 * and `declare -px` does not show them. Not the exported functions it imports (a
 * `BASH_FUNC_name%%` whose value starts with `() {`), which it exports anew as `declare -fx`
 * shows them; entries without a name or without `=`, which bash drops. (One whose import
 * failed, with a syntax error bash reported when it started, bash 5 passes on as it is, and
 * this does not: unset and failed look alike from here.)
 */
export function passedThrough(environ: string): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of environ.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (IDENTIFIER.test(name)) continue;
    if (name.startsWith("BASH_FUNC_") && name.endsWith("%%") && value.startsWith("() {")) continue;
    out.push([name, value]);
  }
  return out;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The start time of the process whose /proc/PID/stat this is (field 22): with the pid, it names one process. */
export function startTimeOf(stat: string): string {
  return statFields(stat)[22 - 3] ?? "";
}

// /proc/PID/limits: a header, then one line per limit in fixed-width columns (the kernel prints
// "%-25s %-20s %-20s %-10s": name, soft, hard, units). Only the soft limit of open files is
// blanked; the rest stays as it is.
function limitsText(text: string): string {
  const line = text.indexOf("\nMax open files ");
  if (line < 0) return text;
  const soft = line + 1 + 26;
  return `${text.slice(0, soft)}${" ".repeat(20)}${text.slice(soft + 20)}`;
}

// /proc/PID/stat: the command name is in parentheses and may hold anything, spaces and `)`
// included, so the fields are counted from the last `)`. Fields 19 (nice value), 40 (real-time
// priority) and 41 (scheduling policy) in proc(5)'s numbering; the first after `)` is field 3.
function schedulingText(stat: string): string {
  const fields = statFields(stat);
  return `nice ${fields[19 - 3] ?? "?"} rt_priority ${fields[40 - 3] ?? "?"} policy ${fields[41 - 3] ?? "?"}`;
}

// Each field's line as the kernel wrote it (the same kernel writes both texts), found by name.
function statusText(text: string): string {
  let out = "";
  for (const field of STATUS_FIELDS) {
    const at = text.indexOf(`\n${field}:`);
    if (at < 0) continue;
    const end = text.indexOf("\n", at + 1);
    out += text.slice(at, end < 0 ? text.length : end);
  }
  return out;
}

function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).trimEnd().split(" ");
}
