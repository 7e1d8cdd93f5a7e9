// The status area under the scrolling task lines: one line per running task (spinner, name in
// its color, time so far), `+K more` past a third of the screen, and a line of counts:
//
//     ⠹ gen      3.2s
//     ⠼ compile 12.0s
//     +3 more
//     14.1s  5 running, 7 done (4 skipped, 1 restored), 1 failed
//
// Pure: the view calls it with the build's progress, the terminal's size and the time. Every
// line fits the width (truncated, never wrapped), since the view erases the area by moving up
// one row per line it drew.
import { nameColor, paint } from "./colors.ts";
import { formatDuration, type Progress } from "./progress.ts";
import { displayWidth, truncateToWidth } from "./width.ts";

/** A terminal's size in cells. */
export interface TerminalSize {
  columns: number;
  rows: number;
}

/** Braille spinner frames, one per 100 ms of a task's time: narrow on every terminal. */
export const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

const INDENT = "  ";

/**
 * How many lines the area may take on a screen of `rows` rows: about a third of it, at least the
 * counts line, and always fewer than the screen (the row under the area holds the cursor; an
 * area taller than the screen would scroll its top out of reach of the cursor-up that erases it).
 */
export function areaBudget(rows: number): number {
  return Math.min(rows - 1, Math.max(1, Math.floor(rows / 3)));
}

/** A name cut to `width` cells, `...` marking the cut. */
function fitName(name: string, width: number): string {
  if (displayWidth(name) <= width) return name;
  if (width <= 3) return truncateToWidth(name, width);
  return `${truncateToWidth(name, width - 3)}...`;
}

/** The line of counts: elapsed time first, so it survives the narrowest terminal. */
export function countsLine(progress: Progress, now: number): string {
  const c = progress.counts;
  const details = [c.skipped > 0 ? `${c.skipped} skipped` : "", c.restored > 0 ? `${c.restored} restored` : ""].filter(Boolean);
  let text = `${progress.running.size} running, ${progress.done()} done`;
  if (details.length > 0) text += ` (${details.join(", ")})`;
  if (c.failed > 0) text += `, ${paint.red(`${c.failed} failed`)}`;
  return `${INDENT}${paint.dim(formatDuration(now - progress.buildStart))}  ${text}`;
}

/**
 * The area's lines (no newlines), each at most `size.columns` cells; empty when the screen has
 * no room for it. Running tasks are listed oldest first, so a task keeps its row while it runs
 * and the newest ones are those folded into `+K more`.
 */
export function statusLines(progress: Progress, size: TerminalSize, now: number): string[] {
  const budget = areaBudget(size.rows);
  if (budget < 1 || size.columns < 1) return [];
  const running = [...progress.running.values()];
  // Room for the tasks: all of them, or all but one row, which then says how many are left out.
  const shown = running.length <= budget - 1 ? running : running.slice(0, Math.max(0, budget - 2));
  const lines: string[] = [];
  if (shown.length > 0) {
    const times = shown.map((t) => formatDuration(now - t.startedAt));
    const timeWidth = Math.max(...times.map((t) => t.length));
    // indent, spinner, space, name, space, time: names get what is left, up to the longest.
    const room = size.columns - INDENT.length - 2 - 1 - timeWidth;
    const nameWidth = Math.max(1, Math.min(room, Math.max(...shown.map((t) => displayWidth(t.name)))));
    shown.forEach((task, i) => {
      const color = nameColor(task.name);
      const frame = SPINNER[Math.floor(Math.max(0, now - task.startedAt) / 100) % SPINNER.length]!;
      const name = fitName(task.name, nameWidth);
      const pad = " ".repeat(nameWidth - displayWidth(name));
      lines.push(`${INDENT}${color(frame)} ${color(name)}${pad} ${paint.dim(times[i]!.padStart(timeWidth))}`);
    });
  }
  if (shown.length < running.length && shown.length > 0) lines.push(`${INDENT}+${running.length - shown.length} more`);
  lines.push(countsLine(progress, now));
  return lines.map((line) => truncateToWidth(line, size.columns));
}
