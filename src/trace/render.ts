// `taskrunner --trace [BUILD]`: one self-contained HTML page (inline CSS, JS and data, no
// network requests) showing a build's trace as a timeline, one track per task invocation.
// Loaded lazily by main.ts; never on a task's path.

import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "../sys/path.ts";
import { type Result, ok, err } from "../result.ts";
import { checkTaskName } from "../state/paths.ts";
import { type TraceEvent, tracePaths, writeTraceJson } from "./spans.ts";
import { readFileSync } from "node:fs";

/** One task's track: its name and its spans, times relative to the build's first event (µs). */
export interface Track {
  tid: number;
  task: string;
  spans: { name: string; start: number; dur: number; depth: number }[];
}

/** Groups complete events by thread, orders tracks by start and gives nested spans a depth. */
export function layoutTracks(events: TraceEvent[]): { tracks: Track[]; total: number } {
  const names = new Map<number, string>();
  const byTid = new Map<number, TraceEvent[]>();
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name") names.set(e.tid, String(e.args?.name ?? e.tid));
    if (e.ph !== "X") continue;
    const list = byTid.get(e.tid) ?? [];
    list.push(e);
    byTid.set(e.tid, list);
  }
  const xs = [...byTid.values()].flat();
  const t0 = Math.min(...xs.map((e) => e.ts));
  const total = Math.max(1, ...xs.map((e) => e.ts + (e.dur ?? 0) - t0));
  const tracks: Track[] = [];
  for (const [tid, list] of byTid) {
    // Longer first among equal starts, so an enclosing span comes before what it encloses.
    list.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const open: number[] = [];
    const spans = list.map((e) => {
      while (open.length > 0 && open[open.length - 1]! <= e.ts) open.pop();
      const depth = open.length;
      open.push(e.ts + (e.dur ?? 0));
      return { name: e.name, start: e.ts - t0, dur: e.dur ?? 0, depth };
    });
    tracks.push({ tid, task: names.get(tid) ?? String(tid), spans });
  }
  tracks.sort((a, b) => (a.spans[0]?.start ?? 0) - (b.spans[0]?.start ?? 0));
  return { tracks, total };
}

/** The HTML page for a laid-out trace. */
export function traceHtml(buildId: string, layout: { tracks: Track[]; total: number }): string {
  // `<` escaped so no data can close the script element.
  const data = JSON.stringify(layout).replace(/</g, "\\u003c");
  const title = escapeHtml(`taskrunner trace: ${buildId}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:16px}
.track{display:flex;border-top:1px solid #ddd;padding:4px 0}
.label{width:180px;flex:none;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.lane{position:relative;flex:1}
.bar{position:absolute;height:16px;border-radius:2px;font-size:11px;line-height:16px;color:#fff;overflow:hidden;white-space:nowrap;padding-left:2px;box-sizing:border-box;min-width:1px}
.axis{color:#666;margin-left:180px}
</style></head>
<body><h1>${title}</h1><div class="axis" id="axis"></div><div id="timeline"></div>
<script>
const trace = ${data};
const colors = {"run":"#3b7dd8","lock wait":"#999","hashing":"#d8903b","decide":"#8a5cc7","finish":"#2f9e6a","status post":"#c7455c","github token":"#c7455c"};
const color = (name) => colors[name] || (name.startsWith("task ") ? "#555" : name.startsWith("cache") ? "#1aa3a3" : "#b55dba");
const ms = (us) => (us / 1000).toFixed(1) + " ms";
document.getElementById("axis").textContent = "0 ms \\u2014 " + ms(trace.total);
const timeline = document.getElementById("timeline");
for (const track of trace.tracks) {
  const row = document.createElement("div");
  row.className = "track";
  row.dataset.track = track.task;
  const label = document.createElement("div");
  label.className = "label";
  label.textContent = track.task;
  const lane = document.createElement("div");
  lane.className = "lane";
  let depth = 0;
  for (const s of track.spans) {
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.dataset.task = track.task;
    bar.dataset.span = s.name;
    bar.dataset.durUs = String(s.dur);
    bar.style.left = (100 * s.start / trace.total) + "%";
    bar.style.width = (100 * s.dur / trace.total) + "%";
    bar.style.top = (s.depth * 18) + "px";
    bar.style.background = color(s.name);
    bar.title = s.name + ": " + ms(s.dur);
    bar.textContent = s.name;
    lane.appendChild(bar);
    depth = Math.max(depth, s.depth);
  }
  lane.style.height = ((depth + 1) * 18) + "px";
  row.append(label, lane);
  timeline.appendChild(row);
}
</script></body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The latest build in the state directory that has a trace, by its id (ISO time first). */
function latestBuild(stateDir: string): string | null {
  let ids: string[];
  try {
    ids = readdirSync(join(stateDir, "builds"));
  } catch {
    return null;
  }
  const traced = ids.filter((id) => existsSync(tracePaths(join(stateDir, "builds", id)).events)).sort();
  return traced[traced.length - 1] ?? null;
}

/** Writes builds/<build>/trace.html (refreshing trace.json from the event lines) and returns its path. */
export function renderTrace(stateDir: string, build: string | null): Result<string> {
  if (build !== null && !checkTaskName(build).ok) return err(`invalid build ${JSON.stringify(build)}: give a build id, a directory name under ${join(stateDir, "builds")}`);
  const id = build ?? latestBuild(stateDir);
  if (id === null) return err(`no build with a trace in ${join(stateDir, "builds")} (is TASKRUNNER_STATE_DIRECTORY right?)`);
  const buildDir = join(stateDir, "builds", id);
  // Lazily made here too: a build whose top level was killed has events but no trace.json.
  const json = writeTraceJson(buildDir, id);
  if (json === null) return err(`build ${JSON.stringify(id)} has no trace (no ${tracePaths(buildDir).events})`);
  const events = (JSON.parse(readFileSync(json, "utf8")) as { traceEvents: TraceEvent[] }).traceEvents;
  const out = join(buildDir, "trace.html");
  writeFileSync(out, traceHtml(id, layoutTracks(events)));
  return ok(out);
}
