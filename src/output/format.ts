/** The stream word of an emitted line: a task's own stream, or a runner message level. */
export type StreamWord = "stdout" | "stderr" | "info" | "warn" | "error" | "debug";

const encoder = new TextEncoder();

/**
 * `HH:MM:SS ` in local time, the prefix of every line unless timestamps are off. `utc` says
 * that local time is known to be UTC (localTimeIsUtc): the first `getHours()` of a process
 * loads the time zone data, 3.5 ms on the no-op path, and `getUTCHours()` needs none.
 */
export function clock(date: Date, utc = false): string {
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  if (utc) return `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} `;
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} `;
}

const UTC_NAMES = new Set(["UTC", "UTC0", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "GMT", "Etc/GMT"]);

/**
 * Whether local time is certainly UTC, given the TZ variable: TZ names UTC, or TZ is unset and
 * /etc/localtime links to a UTC zone (the usual container and CI set-up). When unsure, false:
 * the caller then pays for the time zone data, never prints a wrong time.
 */
export function localTimeIsUtc(tz: string | undefined, readLocaltimeLink: () => string | null): boolean {
  if (tz !== undefined) return UTC_NAMES.has(tz.startsWith(":") ? tz.slice(1) : tz);
  const link = readLocaltimeLink();
  if (link === null) return false;
  const zone = link.replace(/^.*\/zoneinfo\//, "");
  return zone !== link && UTC_NAMES.has(zone);
}

/** Joins a text prefix, the line's bytes and a newline into one buffer, for a single write. */
export function joinLine(prefix: string, line: Uint8Array): Uint8Array {
  const head = encoder.encode(prefix);
  const out = new Uint8Array(head.length + line.length + 1);
  out.set(head, 0);
  out.set(line, head.length);
  out[out.length - 1] = 10;
  return out;
}

/** Prefix of a line on the top-level streams: `[name] stream | `. */
export function terminalPrefix(timestamp: string, name: string, stream: StreamWord): string {
  return `${timestamp}[${name}] ${stream} | `;
}

/** Prefix of a line in the task's log file (no task name): `stream | `. */
export function logPrefix(timestamp: string, stream: StreamWord): string {
  return `${timestamp}${stream} | `;
}

/** Which top-level stream a line goes to: the task's stdout to stdout, everything else to stderr. */
export function targetStream(stream: StreamWord): "stdout" | "stderr" {
  return stream === "stdout" ? "stdout" : "stderr";
}

/** Whether a line is shown on the top-level streams (it is always logged). */
export function isShown(stream: StreamWord, show: { info: boolean; debug: boolean }): boolean {
  switch (stream) {
    case "info":
      return show.info;
    case "debug":
      return show.debug;
    case "stdout":
    case "stderr":
    case "warn":
    case "error":
      return true;
    default: {
      const never: never = stream;
      return never;
    }
  }
}
