// The build summary the live view prints when the build ends, in place of the status area:
//
//   12 tasks in 4.2s: 3 ran, 7 skipped, 1 restored, 1 failed
//     failed: gen (log: /tmp/taskrunner/builds/2024-05-01T12:00:00.000Z/logs/gen.log)
//
// Pure. Not truncated to the terminal's width (unlike the status area): it is printed once, below
// everything, and a log path cut short would be useless.
import { nameColor, paint } from "./colors.ts";
import { formatDuration, type Progress } from "./progress.ts";

/**
 * The summary's lines (no newlines). The first line counts the tasks by result and is green for
 * a build that succeeded, red for one that failed; below it, each failed task with its log, then
 * each task that never ended (the build was cancelled while it ran) with its log.
 */
export function summaryLines(progress: Progress, now: number, success: boolean): string[] {
  const c = progress.counts;
  const done = progress.done();
  const unfinished = [...progress.running.values()];
  const total = done + unfinished.length;
  const color = success ? paint.green : paint.red;
  let counts = `${c.ran} ran, ${c.skipped} skipped, ${c.restored} restored, `;
  counts += c.failed > 0 ? paint.bold(`${c.failed} failed`) : `${c.failed} failed`;
  if (unfinished.length > 0) counts += `, ${unfinished.length} unfinished`;
  const lines = [color(`${total} ${total === 1 ? "task" : "tasks"} in ${formatDuration(now - progress.buildStart)}: ${counts}`)];
  for (const task of progress.failed) lines.push(`  ${paint.red("failed")}: ${nameColor(task.name)(task.name)} (log: ${task.logPath})`);
  for (const task of unfinished) lines.push(`  ${paint.yellow("unfinished")}: ${nameColor(task.name)(task.name)} (log: ${task.logPath})`);
  return lines;
}
