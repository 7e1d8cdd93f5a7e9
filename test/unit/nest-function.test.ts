// The `taskrunner` bash function against the real call server (nest/server.ts) with a scripted
// handler: what bash sends arrives intact, replies become exit codes, and every way a call can
// fail to be served ends in the executable, or in an error when the task may have run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CALL_ENV, TASKRUNNER_DEFINITION, TASKRUNNER_DEFINITION_ENV, TASKRUNNER_FUNCTION, TASKRUNNER_FUNCTION_ENV } from "../../src/nest/function.ts";
import { channelText } from "../../src/nest/channel.ts";
import { startCallServer, type CallServer, type CallSession } from "../../src/nest/server.ts";
import { parseCall, parseHead, type NestedCall } from "../../src/nest/request.ts";

const BASH = Bun.which("bash") ?? "/bin/bash";

/** What the handler does with a call whose first argument is the key. */
type Plan =
  | { kind: "finish"; code: number; afterMs?: number }
  | { kind: "fallback" }
  | { kind: "wait-for"; release: Promise<number>; acceptFirst: boolean };
const plans = new Map<string, Plan>();
const calls: NestedCall[] = [];
/** What `early` parsed from each call's first section, by its first argument. */
const heads = new Map<string, unknown>();
/** Told of each first section `early` gets, as it gets it. */
let earlyListener: (head: ReturnType<typeof parseHead>) => void = () => {};
let server: CallServer;
let dir: string;
/** The channel file naming `server`, as the top level writes it (nest/channel.ts). */
let channel: string;
let files = 0;

/** A symbolic link to `target`. */
function linkTo(target: string): string {
  const path = join(dir, `link-${++files}`);
  symlinkSync(target, path);
  return path;
}

/** `path`, given to the user nobody (the tests run as root where they can). */
function ownedByNobody(path: string): string {
  chownSync(path, 65534, 65534);
  return path;
}

/** A channel file holding `text`. */
function channelFileWith(text: string): string {
  const path = join(dir, `channel-${++files}`);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  const early = (head: Uint8Array) => {
    const parsed = parseHead(head);
    earlyListener(parsed);
    return parsed;
  };
  server = startCallServer({ early, serve: async (request: Uint8Array, session: CallSession, early) => {
    const parsed = parseCall(request);
    if (!parsed.ok) throw new Error(parsed.error);
    const call = parsed.value;
    calls.push(call);
    heads.set(call.argv[0] ?? "", early);
    const plan = plans.get(call.argv[0] ?? "") ?? { kind: "finish", code: 0 };
    if (plan.kind === "fallback") return session.fallback();
    if (plan.kind === "wait-for") {
      // Accepted at once, or only when released (the caller then waits for `A` meanwhile).
      if (plan.acceptFirst) session.accept();
      const code = await plan.release;
      if (!plan.acceptFirst) session.accept();
      return session.finish(code);
    }
    session.accept();
    if (plan.afterMs !== undefined) await Bun.sleep(plan.afterMs);
    session.finish(plan.code);
  } }, () => {})!;
  dir = mkdtempSync(join(tmpdir(), "nest-function-"));
  // The executable a fallback runs: it says so, with its arguments.
  writeFileSync(join(dir, "taskrunner"), '#!/bin/sh\necho "executable:$*"\nexit 9\n');
  chmodSync(join(dir, "taskrunner"), 0o755);
  channel = channelFileWith(channelText(server.channel));
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(script: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; pid: number }> {
  const proc = Bun.spawn([BASH, "-c", script], {
    env: { PATH: `${dir}:/usr/bin:/bin`, [TASKRUNNER_FUNCTION_ENV]: TASKRUNNER_FUNCTION, [TASKRUNNER_DEFINITION_ENV]: TASKRUNNER_DEFINITION, [CALL_ENV]: channel, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, pid: proc.pid };
}

const lastCall = (key: string) => calls.findLast((c) => c.argv[0] === key);

describe("taskrunner function", () => {
  test("every argument byte arrives (bytes that are not UTF-8 as U+FFFD, as the runtime decodes argv)", async () => {
    const bytes = Array.from({ length: 255 }, (_, i) => i + 1);
    const args = bytes.map((x) => `$'\\x${x.toString(16).padStart(2, "0")}'`).join(" ");
    const r = await run(`taskrunner bytes ${args} '' 'two words' $'a\\nb' '*' '-n'; echo "rc=$?"`);
    expect(r.stdout).toBe("rc=0\n");
    const decode = (x: number[]) => new TextDecoder().decode(Uint8Array.from(x));
    expect(lastCall("bytes")!.argv).toEqual(["bytes", ...bytes.map((x) => decode([x])), "", "two words", "a\nb", "*", "-n"]);
  });

  test("the first section (arguments, pid) reaches the early hook, before the rest", async () => {
    const r = await run("(taskrunner early-head 'a b' ''; echo \"rc=$? pid=$BASHPID\")");
    const pid = Number(r.stdout.match(/pid=(\d+)/)![1]);
    expect(r.stdout).toBe(`rc=0 pid=${pid}\n`);
    expect(heads.get("early-head")).toEqual({ ok: true, value: { argv: ["early-head", "a b", ""], pid } });
  });

  test("early runs while the rest of the request is still to come", async () => {
    const { promise: earlyCalled, resolve } = Promise.withResolvers<ReturnType<typeof parseHead>>();
    earlyListener = resolve;
    let reply = "";
    const { promise: closed, resolve: close } = Promise.withResolvers<void>();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: server.channel.port,
      socket: { data: (_s, chunk) => void (reply += Buffer.from(chunk).toString("latin1")), close: () => close() },
    });
    socket.write(`${server.channel.secret}\ndeclare -a __tr_argv=([0]="raw-early")\ndeclare -- __tr_pid="1"\n\0`);
    // Only the first section has been sent: early has it, serve has not been called.
    expect(await earlyCalled).toEqual({ ok: true, value: { argv: ["raw-early"], pid: 1 } });
    expect(heads.has("raw-early")).toBe(false);
    earlyListener = () => {};
    socket.write("declare -x A=\"1\"\n\0\0");
    await closed;
    expect(reply).toBe("A\0X0\0");
    expect(heads.get("raw-early")).toEqual({ ok: true, value: { argv: ["raw-early"], pid: 1 } });
  });

  test("exit codes travel back", async () => {
    for (const code of [0, 1, 42, 143, 255]) plans.set(`code${code}`, { kind: "finish", code });
    const r = await run("for c in 0 1 42 143 255; do taskrunner code$c; echo \"$c -> $?\"; done");
    expect(r.stdout).toBe("0 -> 0\n1 -> 1\n42 -> 42\n143 -> 143\n255 -> 255\n");
  });

  test("environment: exported variables, prefix assignments and exported functions; not private variables; the caller's pid", async () => {
    const r = await run('export E=exported; P=private; f() { echo f; }; export -f f; (X="pre fixed" taskrunner env-call; echo "sub=$BASHPID")');
    const call = lastCall("env-call")!;
    expect(call.env.E).toBe("exported");
    expect(call.env.X).toBe("pre fixed");
    expect(call.env.P).toBeUndefined();
    expect(call.env["BASH_FUNC_f%%"]).toBe("() { \n    echo f\n}");
    expect(call.env[CALL_ENV]).toBe(channel);
    expect(Object.keys(call.env).filter((k) => k.startsWith("__tr_"))).toEqual([]);
    expect(`sub=${call.pid}\n`).toBe(r.stdout);
  });

  test("set -euo pipefail: a failing call stops the script with its code; nothing inside trips it", async () => {
    plans.set("fails", { kind: "finish", code: 7 });
    const r = await run("set -euo pipefail; set -o errtrace; taskrunner ok-call; echo between; taskrunner fails; echo not reached");
    expect(r).toMatchObject({ code: 7, stdout: "between\n", stderr: "" });
  });

  test("set -x shows the call, not the function's own commands", async () => {
    const r = await run("set -x; taskrunner traced 'a b'");
    expect(r.stderr).toBe("+ taskrunner traced 'a b'\n");
  });

  test("set -a (allexport) does not leak the function's locals", async () => {
    await run("set -a; taskrunner allexport");
    expect(Object.keys(lastCall("allexport")!.env).filter((k) => k.startsWith("__tr_"))).toEqual([]);
  });

  test("POSIX mode works the same", async () => {
    plans.set("posix", { kind: "finish", code: 3 });
    const r = await run("set -o posix; taskrunner posix; echo \"rc=$?\"");
    expect(r.stdout).toBe("rc=3\n");
  });

  test("a caller's functions named like the builtins the function calls change nothing", async () => {
    plans.set("shadowed", { kind: "finish", code: 6 });
    plans.set("shadowed-fb", { kind: "fallback" });
    // Not eval and command, which the function calls by name (function.ts says why).
    const names = ["read", "printf", "umask", "declare", "local", "exec", "set", "break", "return", ":"];
    // Each prints its name and succeeds: run instead of the builtin, it would garble the request,
    // end a wait for the reply at once, or show in the output.
    const shadows = names.map((n) => `${n} () { echo "${n} ran" >&2; }`).join("; ");
    const r = await run(`${shadows}; taskrunner shadowed; echo "rc=$?"; taskrunner shadowed-fb x; echo "rc=$?"`);
    expect(r).toMatchObject({ stdout: "rc=6\nexecutable:shadowed-fb x\nrc=9\n", stderr: "" });
    expect(lastCall("shadowed")!.argv).toEqual(["shadowed"]);
    expect(Object.keys(lastCall("shadowed")!.env).filter((k) => k.startsWith("BASH_FUNC_"))).toEqual(["BASH_FUNC_taskrunner%%"]);
  });

  test("F: the executable runs instead, with the same arguments", async () => {
    plans.set("fb", { kind: "fallback" });
    const r = await run("taskrunner fb --help 'x y'; echo \"rc=$?\"");
    expect(r.stdout).toBe("executable:fb --help x y\nrc=9\n");
  });

  test("no channel file, a refused or malformed channel, a link or another user's file: the executable runs", async () => {
    const values = [
      "",
      join(dir, "missing"),
      dir,
      channelFileWith(""),
      channelFileWith("1:00\n"),
      channelFileWith("junk\n"),
      channelFileWith(`${server.channel.port}\n`),
      channelFileWith(`:${server.channel.secret}\n`),
      // The right text, but through a symbolic link, or in a file of another user.
      linkTo(channel),
      ...(process.getuid?.() === 0 ? [ownedByNobody(channelFileWith(readFileSync(channel, "utf8")))] : []),
    ];
    for (const value of values) {
      const r = await run('taskrunner nochan a; echo "rc=$?"', { [CALL_ENV]: value });
      expect(r.stdout).toBe("executable:nochan a\nrc=9\n");
      expect(r.stderr).toBe("");
    }
  });

  test("the stub defines the real function in the calling shell on the first call; without the definition the executable runs", async () => {
    const r = await run('declare -f taskrunner | wc -l; taskrunner stub1; declare -f taskrunner | wc -l; taskrunner stub2; echo "rc=$?"');
    const [before, after] = r.stdout.trim().split("\n").map(Number);
    expect(before).toBeLessThan(15);
    expect(after).toBeGreaterThan(35);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("rc=0");
    expect(lastCall("stub2")).toBeDefined();
    const missing = await run('taskrunner nodef a; echo "rc=$?"', { [TASKRUNNER_DEFINITION_ENV]: "" });
    expect(missing.stdout).toBe("executable:nodef a\nrc=9\n");
  });

  test("a connection that ends after A (the runner died mid-task) is an error, never a second run", async () => {
    // A runner that accepts and then is gone: the connection ends without a code.
    const dying = Bun.listen<{ nuls: number }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          socket.data = { nuls: 0 };
        },
        data(socket, chunk) {
          for (const b of chunk) if (b === 0) socket.data.nuls++;
          if (socket.data.nuls === 3) socket.end("A\0");
        },
      },
    });
    const r = await run('taskrunner hang; echo "rc=$?"', { [CALL_ENV]: channelFileWith(`${dying.port}:whatever\n`) });
    dying.stop(true);
    expect(r.stdout).toBe("rc=1\n");
    expect(r.stderr).toBe("taskrunner: the connection to the build's runner ended before the task did\n");
  });

  // Waiting for `A` or for the code, a signal the caller traps runs its trap and the wait goes
  // on. (Bash 5.2 restarts the `read`; where a bash returns > 128 instead, giving up before `A`
  // would run the executable a second time while the runner's run is cancelled.)
  for (const acceptFirst of [true, false]) {
    test(`a signal the caller traps does not end the wait (${acceptFirst ? "for the code" : "for A"})`, async () => {
      let release: (code: number) => void = () => {};
      const key = `trapped-${acceptFirst}`;
      plans.set(key, { kind: "wait-for", release: new Promise<number>((r) => (release = r)), acceptFirst });
      const marker = join(dir, `${key}.done`);
      const proc = Bun.spawn([BASH, "-c", `trap 'echo got-usr1; : > ${marker}' USR1; taskrunner ${key}; echo "rc=$?"`], {
        env: { PATH: `${dir}:/usr/bin:/bin`, [TASKRUNNER_FUNCTION_ENV]: TASKRUNNER_FUNCTION, [TASKRUNNER_DEFINITION_ENV]: TASKRUNNER_DEFINITION, [CALL_ENV]: channel },
        stdout: "pipe",
      });
      const deadline = Date.now() + 5000;
      while (lastCall(key) === undefined && Date.now() < deadline) await Bun.sleep(5);
      process.kill(proc.pid, "SIGUSR1");
      // The trap has run before the task ends.
      while (!existsSync(marker) && Date.now() < deadline) await Bun.sleep(5);
      expect(existsSync(marker)).toBe(true);
      release(5);
      expect(await new Response(proc.stdout).text()).toBe("got-usr1\nrc=5\n");
    });
  }

  test("a trap that runs while the request is written prints to the caller's stdout, not into the request", async () => {
    // A runner that reads nothing until told: bash blocks writing a 16 MiB exported variable.
    const chunks: Buffer[] = [];
    let nuls = 0;
    let paused: Bun.Socket<undefined> | null = null;
    const connected = Promise.withResolvers<void>();
    const complete = Promise.withResolvers<Buffer>();
    const slow = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          socket.pause();
          paused = socket;
          connected.resolve();
        },
        data(socket, chunk) {
          chunks.push(Buffer.from(chunk));
          for (let at = chunk.indexOf(0); at !== -1; at = chunk.indexOf(0, at + 1)) nuls++;
          if (nuls < 3) return;
          socket.end("A\0X5\0");
          complete.resolve(Buffer.concat(chunks));
        },
      },
    });
    const marker = join(dir, "write-trap.done");
    const script = `export BIG=$(head -c 16777216 /dev/zero | tr '\\0' x); trap 'echo got-usr1; : > ${marker}' USR1; taskrunner big; echo "rc=$?"`;
    const proc = Bun.spawn([BASH, "-c", script], {
      env: { PATH: `${dir}:/usr/bin:/bin`, [TASKRUNNER_FUNCTION_ENV]: TASKRUNNER_FUNCTION, [TASKRUNNER_DEFINITION_ENV]: TASKRUNNER_DEFINITION, [CALL_ENV]: channelFileWith(`${slow.port}:s\n`) },
      stdout: "pipe",
    });
    await connected.promise;
    // Blocked in the write (sleeping) with the request unfinished: the signal comes mid-request.
    const deadline = Date.now() + 10_000;
    const state = () => readFileSync(`/proc/${proc.pid}/stat`, "latin1").replace(/^.*\) /s, "")[0];
    while (state() !== "S" && Date.now() < deadline) await Bun.sleep(5);
    expect(state()).toBe("S");
    process.kill(proc.pid, "SIGUSR1");
    (paused as Bun.Socket<undefined> | null)?.resume();
    const request = await complete.promise;
    slow.stop(true);
    expect(request.includes("got-usr1")).toBe(false);
    expect(request.length).toBeGreaterThan(16 * 1024 * 1024);
    expect(await new Response(proc.stdout).text()).toBe("got-usr1\nrc=5\n");
    expect(existsSync(marker)).toBe(true);
  });

  test("ten parallel background calls, each with its own code", async () => {
    for (let i = 0; i < 10; i++) plans.set(`par${i}`, { kind: "finish", code: i * 11, afterMs: (10 - i) * 5 });
    const r = await run('for i in 0 1 2 3 4 5 6 7 8 9; do taskrunner par$i & p[i]=$!; done; for i in 0 1 2 3 4 5 6 7 8 9; do wait ${p[i]}; echo -n "$? "; done');
    expect(r.stdout).toBe("0 11 22 33 44 55 66 77 88 99 ");
  });
});
