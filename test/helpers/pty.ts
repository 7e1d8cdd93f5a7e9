// Runs a command in a pseudo-terminal of a given size and returns the raw bytes it wrote there,
// for tests of what taskrunner shows on a terminal (feed them to test/helpers/screen.ts).
//
// The pty comes from util-linux `script` (2.38 here, /usr/bin/script; Debian's bsdutils):
//   script -q -f -e -c "stty cols C rows R; exec CMD" /dev/null
//   -q  none of script's own "Script started/done" lines, so stdout holds only the pty's bytes
//   -f  flush after each write, so a command killed half-way still shows what it wrote
//   -e  exit with the command's status (128+N when a signal N killed it)
//   -c  the command, run by $SHELL (the helper sets SHELL=/bin/sh for it) in a new session
//       whose controlling terminal is the pty: stdout, stderr and stdin of CMD are the pty
//   /dev/null  the typescript file script would otherwise keep
// The size is set with stty inside the pty before CMD starts, since script gives the pty the
// size of its own terminal, and a test has none. stdin is /dev/null: script then sends no input
// (measured: it neither ends early nor echoes anything into the output).
//
// What comes back is what a terminal would receive: "\n" written by CMD arrives as "\r\n" (the
// pty's ONLCR), so give the bytes to a Screen without `crlf`.

/** How to run a command in a pty. */
export interface PtyOptions {
  cols: number;
  rows: number;
  /** CMD's whole environment (plus SHELL=/bin/sh, which script needs); set TERM for it as a user's terminal would. */
  env: Record<string, string>;
  cwd?: string;
  /** Kill it after this many milliseconds (default 30 s): the result then says `timedOut`. */
  timeoutMs?: number;
}

/** What a command did in the pty. */
export interface PtyResult {
  /** Every byte CMD wrote to the terminal (stdout and stderr alike), in order. */
  bytes: Uint8Array;
  /** CMD's exit status; 128+N if a signal N killed it. */
  exitCode: number;
  /** What script itself said on its stderr (empty unless it failed to start CMD). */
  scriptErrors: string;
  timedOut: boolean;
}

/** Quotes a word for sh: `'...'` with each `'` as `'\''`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=+@%-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** Runs `argv` in a pty of `cols` x `rows` and collects what it wrote. */
export async function runInPty(argv: string[], options: PtyOptions): Promise<PtyResult> {
  if (argv.length === 0) throw new Error("runInPty: no command");
  const command = `stty cols ${options.cols} rows ${options.rows} && exec ${argv.map(shellQuote).join(" ")}`;
  const proc = Bun.spawn(["script", "-qfec", command, "/dev/null"], {
    cwd: options.cwd,
    env: { ...options.env, SHELL: "/bin/sh" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  // Killing script closes the pty's master side: the kernel hangs CMD's session up (SIGHUP).
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, options.timeoutMs ?? 30_000);
  try {
    const [bytes, scriptErrors, exitCode] = await Promise.all([
      new Response(proc.stdout).bytes(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { bytes, exitCode, scriptErrors, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An OSC sequence terminals ignore, which a test's task writes to the terminal device (the
 * top-level runner's stdout, `/proc/PID/fd/1`) to mark a moment: `ESC ] 7770 ; WHAT BEL`.
 * WHAT `resize;COLS;ROWS` resizes the screen there (where the test resized the pty with stty).
 */
export const MARK = /\x1b\]7770;([^\x07]*)\x07/g;

/**
 * Plays a pty's bytes on `screen`, calling `onMark` with the screen as it is at each mark (see
 * MARK), and resizing it where a `resize` mark says so.
 */
export async function playWithMarks(bytes: Uint8Array, screen: { write(data: Uint8Array): Promise<void>; resize(cols: number, rows: number): void }, onMark: (what: string) => void | Promise<void>): Promise<void> {
  const text = Buffer.from(bytes).toString("latin1");
  let at = 0;
  for (const m of text.matchAll(MARK)) {
    await screen.write(Buffer.from(text.slice(at, m.index), "latin1"));
    at = m.index + m[0].length;
    const [what, cols, rows] = m[1]!.split(";");
    if (what === "resize") screen.resize(Number(cols), Number(rows));
    else await onMark(what!);
  }
  await screen.write(Buffer.from(text.slice(at), "latin1"));
}
