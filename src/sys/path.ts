// POSIX path operations, for the paths of one machine (tasks run on Linux): the subset of
// node:path this program uses, with node:path's results (test/unit/path.test.ts compares them
// over a table of cases). Not node:path itself because Bun builds that module from its
// JavaScript source when it is first imported, on every start: measured here, importing it
// cost ~0.9 ms of a compiled hello world's start-up, and every run of the executable paid it.

export const sep = "/";

const SLASH = 47;

export function isAbsolute(p: string): boolean {
  return p.charCodeAt(0) === SLASH;
}

/**
 * The segments of `p` with "." and empty ones dropped and ".." applied. Under a root (`rooted`)
 * ".." stops there; otherwise the ".." that cannot be applied are kept at the front.
 */
function segments(p: string, rooted: boolean): string[] {
  const out: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s !== "..") out.push(s);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!rooted) out.push("..");
  }
  return out;
}

/** `p` without "." and ".." segments or repeated slashes; a trailing slash is kept. */
export function normalize(p: string): string {
  if (p === "") return ".";
  const rooted = isAbsolute(p);
  let body = segments(p, rooted).join("/");
  if (body === "" && !rooted) body = ".";
  if (body !== "" && p.charCodeAt(p.length - 1) === SLASH) body += "/";
  return rooted ? `/${body}` : body;
}

/** The non-empty parts joined with "/", normalized; "." if there are none. */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * The absolute path the parts name, read from right to left until one is absolute, then
 * against the working directory; normalized, without a trailing slash.
 */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    const p = parts[i]!;
    if (p !== "") path = path === "" ? p : `${p}/${path}`;
  }
  if (!isAbsolute(path)) path = `${process.cwd()}/${path}`;
  return `/${segments(path, true).join("/")}`;
}

/** Everything before the last segment (trailing slashes ignored): "." if none, "/" at the root. */
export function dirname(p: string): string {
  if (p === "") return ".";
  let end = p.length;
  while (end > 1 && p.charCodeAt(end - 1) === SLASH) end--;
  const slash = p.lastIndexOf("/", end - 1);
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  // node:path keeps a leading "//" (POSIX leaves its meaning to the system).
  if (slash === 1 && isAbsolute(p)) return "//";
  return p.slice(0, slash);
}

/** The last segment of `p`, trailing slashes ignored. */
export function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === SLASH) end--;
  return p.slice(p.lastIndexOf("/", end - 1) + 1, end);
}

/** The path from `from` to `to` (both resolved first): "" if they are the same. */
export function relative(from: string, to: string): string {
  const a = segments(resolve(from), true);
  const b = segments(resolve(to), true);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}
