// Reading a task's output pipes (task/streams.ts): every line arrives, the last one without a
// newline too, and a pipe that was closed in time counts as closed in time even when the event
// loop was busy elsewhere as the deadline passed (the top level serves many tasks at once).
import { expect, test } from "bun:test";
import { readLines, within } from "../../src/task/streams.ts";
import { pipe } from "../../src/sys/libc.ts";
import { closeSync, writeSync } from "../../src/sys/fs.ts";

/** A pipe whose writer wrote `text` and closed; its lines as read. */
function closedPipe(text: string) {
  const [r, w] = pipe();
  const lines: string[] = [];
  const reader = readLines(r, (line) => lines.push(Buffer.from(line).toString()));
  writeSync(w, text);
  closeSync(w);
  return { reader, lines };
}

/** Keeps the event loop from turning for `ms`, as synchronous work does. */
function busy(ms: number): void {
  const start = performance.now();
  while (performance.now() - start < ms) {
    // spin
  }
}

test("every line arrives, the last one without a newline too", async () => {
  const { reader, lines } = closedPipe("a\nb\nlast");
  expect(await within(reader.done, 5000)).toBe(true);
  expect(lines).toEqual(["a", "b", "last"]);
});

test("a pipe closed before the deadline counts as closed though the loop was busy past it", async () => {
  for (let i = 0; i < 20; i++) {
    const { reader, lines } = closedPipe("a\nb\n");
    const closed = within(reader.done, 20);
    busy(60);
    expect(await closed).toBe(true);
    expect(lines).toEqual(["a", "b"]);
  }
});

test("a pipe still open is late", async () => {
  const [r, w] = pipe();
  const reader = readLines(r, () => {});
  expect(await within(reader.done, 20)).toBe(false);
  reader.abandon();
  closeSync(w);
});
