// Fault tests of nested calls served by the top-level runner (SPEC §2, the `taskrunner` bash
// function): which runner runs what, callers that die or disconnect mid-task, and connections
// that do not carry the build's secret.
import { test, expect, afterEach } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { CHANNEL_READY, Fault, exitOf, inBothNestings, waitForPidFile, waitGone } from "./helpers.ts";

let f: Fault | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

/** Bash that waits until a file exists (the condition is a file written by another process). */
const waitFile = (path: string) => `until [ -s ${path} ]; do sleep 0.01; done`;

/** Bash that waits for the build's channel file (CHANNEL_READY) and reads it into $port and $secret. */
const channelReady = `${CHANNEL_READY}; IFS=: read -r port secret < "$_taskrunner_call"`;

test("bash callers are served by the top-level runner; sh -c, xargs, env and exec start the executable", async () => {
  f = new Fault("which-runner");
  const script = [
    channelReady,
    "taskrunner -n from-bash bash -c 'echo $PPID > from-bash.ppid'",
    `sh -c 'taskrunner -n from-sh bash -c "echo \\$PPID > from-sh.ppid"'`,
    "echo x | xargs taskrunner -n from-xargs bash -c 'echo $PPID > from-xargs.ppid'",
    "env taskrunner -n from-env bash -c 'echo $PPID > from-env.ppid'",
    `bash -c 'exec taskrunner -n from-exec bash -c "echo \\$PPID > from-exec.ppid"'`,
  ].join("\n");
  const r = f.runner(["-n", "top", "bash", "-e", "-c", script]);
  expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
  const ppid = (name: string) => Number(readFileSync(f!.path(`${name}.ppid`), "utf8").trim());
  expect(ppid("from-bash")).toBe(r.pid);
  for (const name of ["from-sh", "from-xargs", "from-env", "from-exec"]) {
    expect(ppid(name)).not.toBe(r.pid);
    expect(ppid(name)).toBeGreaterThan(0);
  }
  expect(r.stdout.text + r.stderr.text).toBe("");
});

test("a caller whose children would inherit other limits, priorities or domains than the runner's starts the executable; its task gets the caller's", async () => {
  f = new Fault("inherited");
  // What each case looks at, for the process whose pid is @ (the caller: its subshell's
  // $BASHPID; the task: its bash's $$).
  const look = {
    stack: "ulimit -s",
    umask: "umask",
    softNofile: "ulimit -Sn",
    hardNofile: "ulimit -Hn",
    nice: 'cut -d" " -f19 /proc/@/stat',
    oom: "cat /proc/@/oom_score_adj",
    io: "ionice -p @",
    cpus: "grep Cpus_allowed_list /proc/@/status | cut -f2",
    domain: "cat /proc/@/personality",
  };
  // Each case: a subshell (a process of its own) changes what its children inherit, writes what
  // it has then calls; the task writes the runner that started it ($PPID) and what it got.
  const call = (name: string, what: keyof typeof look, change: string) =>
    `(${change} ${look[what].replaceAll("@", () => "$BASHPID")} > ${name}.caller; taskrunner -n ${name} bash -c 'echo "$PPID $(${look[what].replaceAll("@", () => "$$")})" > ${name}.seen')`;
  const script = [
    channelReady,
    call("same-stack", "stack", ""),
    call("same-nice", "nice", ""),
    // Bun raises the soft limit of open files to the hard one, in a nested executable too.
    call("soft-nofile", "softNofile", "ulimit -Sn 512;"),
    call("stack", "stack", "ulimit -s 4096;"),
    call("umask", "umask", "umask 077;"),
    call("hard-nofile", "hardNofile", "ulimit -n 4000;"),
    call("nice", "nice", "renice -n 2 -p $BASHPID >/dev/null;"),
    call("oom", "oom", "echo 300 > /proc/$BASHPID/oom_score_adj;"),
    call("io", "io", "ionice -c 3 -p $BASHPID;"),
    call("cpus", "cpus", "taskset -p -c 0 $BASHPID >/dev/null;"),
    // A bash started by a tool that sets its execution domain (the function is in its environment).
    `setarch -R bash -c ${JSON.stringify(call("domain", "domain", "")).replaceAll("$", "\\$")}`,
  ].join("\n");
  const r = f.runner(["-n", "top", "bash", "-e", "-c", script]);
  const exit = await exitOf(r, 30_000);
  expect(r.stdout.text + r.stderr.text).toBe("");
  expect(exit).toEqual({ code: 0, signal: null });
  const read = (file: string) => readFileSync(f!.path(file), "utf8").trim();
  const seen = (name: string) => {
    const [ppid, ...value] = read(`${name}.seen`).split(" ");
    return { served: Number(ppid) === r.pid, value: value.join(" "), caller: read(`${name}.caller`) };
  };
  // Unchanged, or only the soft limit of open files: served here, with the caller's values.
  for (const name of ["same-stack", "same-nice", "soft-nofile"]) {
    const s = seen(name);
    expect({ name, served: s.served }).toEqual({ name, served: true });
  }
  expect(seen("same-stack").value).toBe(seen("same-stack").caller);
  // Changed: each caller has another value than the runner's tasks get, and its task gets it.
  const runners = { stack: seen("same-stack").value, nice: seen("same-nice").value };
  const cpusHere = readFileSync("/proc/self/status", "utf8").match(/Cpus_allowed_list:\s*(\S+)/)![1];
  const changed = ["stack", "umask", "hard-nofile", "nice", "oom", "io", "domain", ...(cpusHere === "0" ? [] : ["cpus"])];
  for (const name of changed) {
    const s = seen(name);
    expect({ name, served: s.served, value: s.value }).toEqual({ name, served: false, value: s.caller });
  }
  expect(seen("stack").caller).not.toBe(runners.stack);
  expect(seen("nice").caller).not.toBe(runners.nice);
  expect([seen("umask").caller, seen("hard-nofile").caller, seen("oom").caller, seen("io").caller, seen("domain").caller]).toEqual(["0077", "4000", "300", "idle", "00040000"]);
});

test("a caller whose PATH finds this executable through a link is served; another program named taskrunner runs instead", async () => {
  f = new Fault("which-executable");
  const script = [
    channelReady,
    'mkdir link wrapper; ln -s "$(type -P taskrunner)" link/taskrunner',
    `printf '#!/bin/sh\\nexec "%s" "$@"\\n' "$(type -P taskrunner)" > wrapper/taskrunner; chmod +x wrapper/taskrunner`,
    `PATH="$PWD/link:$PATH" taskrunner -n linked bash -c 'echo $PPID > linked.ppid'`,
    `PATH="$PWD/wrapper:$PATH" taskrunner -n wrapped bash -c 'echo $PPID > wrapped.ppid'`,
  ].join("\n");
  const r = f.runner(["-n", "top", "bash", "-e", "-c", script]);
  expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
  expect(r.stdout.text + r.stderr.text).toBe("");
  const servedHere = (name: string) => Number(readFileSync(f!.path(`${name}.ppid`), "utf8").trim()) === r.pid;
  expect([servedHere("linked"), servedHere("wrapped")]).toEqual([true, false]);
});

test("a caller with another TZ or loader variables starts the executable; AWS variables without a remote cache do not matter", async () => {
  f = new Fault("runner-env");
  const ppid = (name: string) => `taskrunner -n ${name} bash -c 'echo $PPID > ${name}.ppid'`;
  const script = [
    channelReady,
    ppid("same"),
    `TZ=UTC ${ppid("same-tz")}`,
    `TZ=Etc/GMT-9 ${ppid("tokyo")}`,
    `LD_LIBRARY_PATH=/nonexistent ${ppid("loader")}`,
    // No remote cache or commit statuses: the AWS SDK is not used, the call stays here.
    `AWS_PROFILE=elsewhere ${ppid("aws-unused")}`,
  ].join("\n");
  const r = f.runner(["-n", "top", "bash", "-e", "-c", script], { TZ: "UTC" });
  expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
  expect(r.stdout.text + r.stderr.text).toBe("");
  const servedHere = (name: string) => Number(readFileSync(f!.path(`${name}.ppid`), "utf8").trim()) === r.pid;
  expect(["same", "same-tz", "tokyo", "loader", "aws-unused"].map((n) => [n, servedHere(n)])).toEqual([
    ["same", true],
    ["same-tz", true],
    ["tokyo", false],
    ["loader", false],
    ["aws-unused", true],
  ]);
});

test("a nested task whose caller has another TZ shows the caller's local time in its lines", async () => {
  f = new Fault("runner-env-clock");
  const script = [channelReady, "echo utc", "TZ=Etc/GMT-9 taskrunner -n tokyo bash -c 'echo tokyo'"].join("\n");
  const r = f.runner(["-n", "top", "bash", "-e", "-c", script], { TZ: "UTC", TASKRUNNER_DISABLE_TIMESTAMPS: "0" });
  expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
  const [utc, tokyo] = r.stdout.lines();
  expect([utc!.slice(9), tokyo!.slice(9)]).toEqual(["[top] stdout | utc", "[tokyo] stdout | tokyo"]);
  // Nine hours ahead; ten if an hour began between the two lines.
  const hours = (Number(tokyo!.slice(0, 2)) - Number(utc!.slice(0, 2)) + 24) % 24;
  expect([9, 10]).toContain(hours);
});

inBothNestings(() => {
  test("killing a background caller cancels its task (its processes gone, failure recorded); the build goes on", async () => {
    f = new Fault("kill-caller");
    const script = [
      "taskrunner -n victim bash -c 'echo $$ > victim.pid; sleep 1000 & echo $! > victim-sleep.pid; echo started; wait' &",
      "caller=$!",
      waitFile("victim-sleep.pid"),
      'kill "$caller"',
      'rc=0; wait "$caller" || rc=$?',
      waitFile('"$STATE"/builds/*/results/victim'),
      'echo "caller rc=$rc"',
      "taskrunner -n after bash -c 'echo the build goes on'",
    ].join("\n");
    const r = f.runner(["-n", "top", "bash", "-c", script], { STATE: f.box.state });
    const victim = await waitForPidFile(f.path("victim.pid"), 10_000);
    const sleeper = await waitForPidFile(f.path("victim-sleep.pid"), 10_000);
    expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
    await waitGone(victim, 3000, "the victim task's bash");
    await waitGone(sleeper, 3000, "the victim task's background sleep");
    expect(r.stdout.lines()).toEqual(["[victim] stdout | started", "[top] stdout | caller rc=143", "[after] stdout | the build goes on"]);
    expect(r.stderr.lines()).toEqual(["[victim] error | Cancelled by SIGTERM"]);
    const results = f.stateFiles("builds/*/results/victim");
    expect(results.map((p) => readFileSync(p, "utf8"))).toEqual(["143\n"]);
  });
});

test("a caller that disconnects mid-task (its shell alive) cancels the task", async () => {
  f = new Fault("disconnect");
  // The function's own protocol, spoken by hand so that the connection closes while bash lives on.
  const script = [
    channelReady,
    'exec {fd}<>"/dev/tcp/127.0.0.1/$port"',
    "__tr_argv=(-n long bash -c 'echo $$ > long.pid; sleep 1000 & echo $! > long-sleep.pid; echo started; wait'); __tr_pid=$BASHPID",
    `{ printf '%s\\n' "$secret"; declare -p __tr_argv __tr_pid; printf '\\0'; declare -px; printf '\\0'; declare -fx; printf '\\0'; } >&$fd`,
    "IFS= read -r -d '' -u $fd reply",
    'echo "reply=$reply"',
    waitFile("long-sleep.pid"),
    "exec {fd}>&-",
    waitFile('"$STATE"/builds/*/results/long'),
    "echo still alive",
  ].join("\n");
  const r = f.runner(["-n", "top", "bash", "-c", script], { STATE: f.box.state });
  const task = await waitForPidFile(f.path("long.pid"), 10_000);
  const sleeper = await waitForPidFile(f.path("long-sleep.pid"), 10_000);
  expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
  await waitGone(task, 3000, "the task's bash");
  await waitGone(sleeper, 3000, "the task's background sleep");
  expect(r.stdout.lines()).toEqual(["[top] stdout | reply=A", "[long] stdout | started", "[top] stdout | still alive"]);
  expect(r.stderr.lines()).toEqual(["[long] error | Cancelled by SIGTERM"]);
  expect(f.stateFiles("builds/*/results/long").map((p) => readFileSync(p, "utf8"))).toEqual(["143\n"]);
  expect(existsSync(f.path("long.pid"))).toBe(true);
});

test("a connection without the build's secret is refused: closed without a reply, nothing runs", async () => {
  f = new Fault("forged");
  // A request a legitimate caller could have sent, but for its first line.
  const body = `'declare -a __tr_argv=([0]="-n" [1]="forged" [2]="touch" [3]="ran.txt")\\ndeclare -- __tr_pid="%s"\\n\\0\\0\\0' "$BASHPID"`;
  const forge = (printfs: string) =>
    [
      'exec {fd}<>"/dev/tcp/127.0.0.1/$port"',
      // In a subshell: the runner hangs up at the first line, and writing on is a SIGPIPE.
      `( { ${printfs}; } >&$fd )`,
      // The refusal resets the connection: read fails (its message varies: reset or end of file).
      `reply=; rc=0; IFS= read -r -d '' -u $fd reply 2>/dev/null || rc=$?; echo "rc=$rc reply=$reply"`,
      "exec {fd}>&-",
    ].join("\n");
  const script = [
    channelReady,
    forge(`printf 'not-the-secret\\n'; printf ${body}`),
    forge(`printf '%sx\\n' "$secret"; printf ${body}`),
    forge(`printf '%0300d' 0`),
    "taskrunner -n legit bash -c 'echo served'",
  ].join("\n");
  const r = f.runner(["-n", "top", "bash", "-c", script]);
  expect(await exitOf(r, 20_000)).toEqual({ code: 0, signal: null });
  expect(r.stdout.lines()).toEqual(["[top] stdout | rc=1 reply=", "[top] stdout | rc=1 reply=", "[top] stdout | rc=1 reply=", "[legit] stdout | served"]);
  const refused = "taskrunner: refused a connection to the build's nested-call channel:";
  expect(r.stderr.lines()).toEqual([`${refused} a wrong secret`, `${refused} a wrong secret`, `${refused} no secret line`]);
  expect(existsSync(f.path("ran.txt"))).toBe(false);
  expect(f.stateFiles("builds/*/results/*").map((p) => p.split("/").pop())).toEqual(["legit", "top"]);
});

test("nothing outlives the build: the listener and the channel file are gone when the top level exits", async () => {
  f = new Fault("no-listener-after");
  const script = `${channelReady}; echo "$port" > port.txt; echo "$_taskrunner_call" > file.txt; stat -c %a "$_taskrunner_call" > mode.txt; taskrunner -n inner true`;
  const r = f.runner(["-n", "top", "bash", "-c", script]);
  expect(await exitOf(r, 10_000)).toEqual({ code: 0, signal: null });
  const port = Number(readFileSync(f.path("port.txt"), "utf8").trim());
  expect(port).toBeGreaterThan(0);
  // The secret is the user's alone, as the environment is; the file is in the build's directory.
  expect(readFileSync(f.path("mode.txt"), "utf8")).toBe("600\n");
  const file = readFileSync(f.path("file.txt"), "utf8").trim();
  expect(file).toMatch(/\/builds\/[^/]+\/nest-channel$/);
  expect(file.startsWith(f.box.state)).toBe(true);
  expect(existsSync(file)).toBe(false);
  const connected = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
    (socket) => {
      socket.end();
      return true;
    },
    () => false,
  );
  expect(connected).toBe(false);
});
