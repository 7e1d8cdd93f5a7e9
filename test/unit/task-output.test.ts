// TaskOutput holding its log while a `snapshot` decision is answered: the terminal gets each line
// at once, the log gets every line, in order, when released (or when asked for its errors).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, existsSync, rmSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskOutput } from "../../src/output/task-output.ts";

const dir = mkdtempSync(join(tmpdir(), "task-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function output(name: string) {
  const terminal = join(dir, `${name}.terminal`);
  const fd = openSync(terminal, "w");
  const logPath = join(dir, `${name}.log`);
  const out = new TaskOutput({ name, timestamps: false, showInfo: true, showDebug: false, quiet: false, stdoutFd: fd, stderrFd: fd, logPath, utc: true, view: null });
  const enc = (s: string) => new TextEncoder().encode(s);
  return {
    out,
    line: (s: string) => out.line("stdout", enc(s)),
    terminal: () => readFileSync(terminal, "utf8"),
    log: () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : null),
    close: () => closeSync(fd),
  };
}

describe("holding the log", () => {
  test("held lines reach the terminal at once and the log on release, in order with later lines", () => {
    const o = output("held");
    o.line("before");
    o.out.holdLog();
    o.out.message("debug", "hash abc");
    o.line("during");
    expect(o.terminal()).toBe("[held] stdout | before\n[held] stdout | during\n");
    expect(o.log()).toBe("stdout | before\n");
    o.out.releaseLog();
    o.line("after");
    expect(o.log()).toBe("stdout | before\ndebug | hash abc\nstdout | during\nstdout | after\n");
    o.out.finish(true);
    o.close();
  });

  test("a log never written is not created while held; finish and logError release", () => {
    const a = output("finish");
    a.out.holdLog();
    a.out.message("debug", "only line");
    expect(a.log()).toBeNull();
    a.out.finish(true);
    expect(a.log()).toBe("debug | only line\n");
    a.close();
    const b = output("errors");
    b.out.holdLog();
    b.line("x");
    expect(b.out.logError()).toBeNull();
    expect(b.log()).toBe("stdout | x\n");
    b.out.finish(true);
    b.close();
  });
});
