import { test, expect } from "bun:test";
import { mergeEventLines, type TraceEvent } from "../../src/trace/spans.ts";
import { layoutTracks, traceHtml } from "../../src/trace/render.ts";
import { parseCli } from "../../src/cli.ts";

const x = (tid: number, name: string, ts: number, dur: number): TraceEvent => ({ name, ph: "X", pid: 1, tid, ts, dur });
const meta = (tid: number, name: string): TraceEvent => ({ name: "thread_name", ph: "M", pid: 1, tid, ts: 0, args: { name } });

test("mergeEventLines: one document from the lines, a damaged line left out", () => {
  const text = `${JSON.stringify([meta(7, "a"), x(7, "run", 10, 5)])}\n[{"name":"cut sh\n${JSON.stringify([x(8, "run", 12, 1)])}\n`;
  const doc = JSON.parse(mergeEventLines(text, "B")) as { traceEvents: TraceEvent[] };
  expect(doc.traceEvents.map((e) => `${e.tid}:${e.name}`)).toEqual(["0:process_name", "7:thread_name", "7:run", "8:run"]);
});

test("layoutTracks: tracks by first start, nested spans one level deeper, times relative", () => {
  const { tracks, total } = layoutTracks([
    meta(2, "inner"),
    x(2, "task inner", 150, 20),
    meta(1, "top"),
    x(1, "run", 110, 80),
    x(1, "task top", 100, 100),
    x(1, "lock wait", 100, 10),
  ]);
  expect(total).toBe(100);
  expect(tracks.map((t) => t.task)).toEqual(["top", "inner"]);
  expect(tracks[0]!.spans.map((s) => [s.name, s.start, s.depth])).toEqual([
    ["task top", 0, 0],
    ["lock wait", 0, 1],
    ["run", 10, 1],
  ]);
});

test("traceHtml: data cannot close the script element", () => {
  const html = traceHtml("B", layoutTracks([meta(1, "</script><b>"), x(1, "run", 0, 1)]));
  expect(html).not.toContain("</script><b>");
});

test("parseCli: --trace [BUILD]", () => {
  expect(parseCli(["--trace"])).toEqual({ ok: true, value: { kind: "trace", build: null } });
  expect(parseCli(["--trace", "B"])).toEqual({ ok: true, value: { kind: "trace", build: "B" } });
  expect(parseCli(["--trace=B"])).toEqual({ ok: true, value: { kind: "trace", build: "B" } });
  expect(parseCli(["--trace", "B", "C"]).ok).toBe(false);
});
