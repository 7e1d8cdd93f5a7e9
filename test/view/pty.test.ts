// The live view on a real pseudo-terminal: a scripted build (fixtures/live-driver.ts) runs in a
// pty, as a bun script and as a compiled executable (how taskrunner ships), with the real size,
// SIGWINCH, timers and writes; its bytes go through a headless xterm, resized where the driver
// resized its pty.
import { test, expect, afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { playWithMarks, runInPty } from "../helpers/pty.ts";
import { Screen } from "../helpers/screen.ts";

const driver = join(import.meta.dir, "fixtures", "live-driver.ts");
const dir = mkdtempSync(join(tmpdir(), "taskrunner-view-pty-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The driver, ready to run: as a script under this bun, or compiled into an executable. */
async function driverCommand(kind: "script" | "compiled"): Promise<string[]> {
  if (kind === "script") return [process.execPath, driver];
  const exe = join(dir, "live-driver");
  const build = Bun.spawnSync([process.execPath, "build", "--compile", driver, "--outfile", exe], { stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun build --compile failed:\n${build.stderr}`);
  return [exe];
}

test.each(["script", "compiled"] as const)("in a pty (%s): lines intact across a resize, the area while it runs, the summary at the end", async (kind) => {
  const argv = await driverCommand(kind);
  const result = await runInPty(argv, { cols: 80, rows: 24, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm-256color" } });
  expect({ exitCode: result.exitCode, timedOut: result.timedOut, scriptErrors: result.scriptErrors }).toEqual({ exitCode: 0, timedOut: false, scriptErrors: "" });

  // Play the bytes on a screen of the pty's size, resizing it where the pty was resized.
  const screen = new Screen({ cols: 80, rows: 24 });
  let snapshot: { lines: string[]; logical: string[]; wrapped: number[] } | null = null;
  await playWithMarks(result.bytes, screen, (what) => {
    if (what === "snapshot") snapshot = { lines: screen.lines(), logical: screen.logicalLines(), wrapped: screen.wrappedRows() };
  });

  const taskLines = [
    "[toplevel] stdout | starting the build",
    "[generate-the-protocol-buffer-bindings] stdout | generating from schema.txt",
    "[lint] stderr | src/a.ts:3: unused variable",
    "[lint] warn | this warning is longer than the forty columns the window has now",
  ];
  // Before the end, on the narrowed window: the lines (wrapped by the terminal, as any long
  // line is) and an area drawn for 40 columns, none of its rows wrapped.
  expect(snapshot).not.toBeNull();
  expect(snapshot!.logical).toEqual([...taskLines, "  ⠏ toplevel                        0.9s", "  ⠏ generate-the-protocol-buffer... 0.9s", "  0.9s  2 running, 1 done"]);
  const areaTop = snapshot!.lines.length - 3;
  expect(snapshot!.wrapped.filter((y) => y >= areaTop)).toEqual([]);
  // At the end: each line once and intact, the summary, nothing of the area on screen or above it.
  expect(screen.logicalLines()).toEqual([...taskLines, "3 tasks in 0.9s: 2 ran, 0 skipped, 1 restored, 0 failed"]);
  expect(screen.cursor()).toEqual({ x: 0, y: screen.lines().length });
  screen.dispose();
}, 30_000);

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm-256color" };

test("runInPty: the pty has the size asked for, the command its environment, both streams land in order, the exit status comes back", async () => {
  const result = await runInPty(["sh", "-c", 'stty size; echo "$GREETING"; echo to-stderr >&2; exit 3'], { cols: 57, rows: 13, env: { ...env, GREETING: "hi there" } });
  expect(new TextDecoder().decode(result.bytes)).toBe("13 57\r\nhi there\r\nto-stderr\r\n");
  expect(result.exitCode).toBe(3);
  expect(result.timedOut).toBe(false);
});

test("runInPty: a command that hangs is killed at the timeout, and what it wrote is kept", async () => {
  const result = await runInPty(["sh", "-c", "echo started; exec sleep 30"], { cols: 80, rows: 24, env, timeoutMs: 500 });
  expect(result.timedOut).toBe(true);
  expect(new TextDecoder().decode(result.bytes)).toBe("started\r\n");
});

test("sameTerminal: stdout and stderr on one pty are the same terminal; stderr sent elsewhere is not", async () => {
  const probe = join(dir, "same-terminal.ts");
  await Bun.write(probe, `import { sameTerminal } from ${JSON.stringify(join(import.meta.dir, "../../src/view/terminal.ts"))};\nconsole.log(String(sameTerminal(1, 2)));\n`);
  const bun = process.execPath;
  const result = await runInPty(["sh", "-c", `"${bun}" "${probe}"; "${bun}" "${probe}" 2>/dev/null; "${bun}" "${probe}" | cat`], { cols: 80, rows: 24, env });
  expect(new TextDecoder().decode(result.bytes)).toBe("true\r\nfalse\r\nfalse\r\n");
});
