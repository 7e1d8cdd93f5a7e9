// `taskrunner --explain NAME`: what changed in a task's hash input between its last two
// recorded runs (state/history.ts), as plain text for stdout.

import { describeDiff, diffInputs, type SplitInput } from "./inputs/input-diff.ts";
import { join } from "./sys/path.ts";
import { type Result, ok, err } from "./result.ts";
import { checkTaskName, taskPaths } from "./state/paths.ts";
import { historyPath, readHistory, type History, type HistoryRecord } from "./state/history.ts";

const split = (r: HistoryRecord): SplitInput => ({ listing: r.hashInput.slice(0, r.listingLength), raw: r.hashInput.slice(r.listingLength) });

const describe = (r: HistoryRecord): string => `${r.time}, ${r.outcome} (hash ${r.hash})`;

/** The --explain text for a task's history. */
export function renderExplain(name: string, history: History): string {
  const { records, lastSkip } = history;
  const latest = records.at(-1);
  const out: string[] = [];
  if (latest === undefined) return `Task ${name}: no recorded runs\n`;
  const previous = records.length > 1 ? records.at(-2) : undefined;
  if (previous === undefined) {
    out.push(`Task ${name}: only one recorded run, the first:`, `  ${describe(latest)}`);
  } else {
    out.push(`Task ${name}: the last two recorded runs:`, `  previous: ${describe(previous)}`, `  latest:   ${describe(latest)}`);
    out.push("What changed in the hash input:", ...describeDiff(diffInputs(split(previous), split(latest))).map((l) => `  ${l}`));
  }
  if (lastSkip !== null) out.push(`Skipped since (inputs unchanged), last at ${lastSkip.toISOString()}`);
  return out.join("\n") + "\n";
}

/** Reads the history of task `name` and renders it; an unknown or invalid name is an error. */
export function explainTask(stateDir: string, name: string): Result<string> {
  const checked = checkTaskName(name);
  if (!checked.ok) return checked;
  const history = readHistory(historyPath(taskPaths(stateDir, "", name).hash));
  if (history === null || history.records.length === 0) {
    return err(`no recorded runs of task ${JSON.stringify(name)} in ${join(stateDir, "hash")}: check the name (-n NAME of the task) and TASKRUNNER_STATE_DIRECTORY; runs are recorded once a task's inputs are hashed`);
  }
  return ok(renderExplain(name, history));
}
