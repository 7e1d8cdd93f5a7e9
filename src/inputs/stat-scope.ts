// What the stat shortcut (stat-memo.ts) must watch so that an unchanged fingerprint proves the
// git hash of the pathspecs unchanged. Pure: paths and environment in, a scope (or why there is
// none) out.
//
// `git add <pathspecs>` into a copy of the index, then `ls-files`, reads exactly these:
// - the index;
// - every file and directory under each pathspec (a new untracked file is a new name in a
//   directory; a tracked file inside an ignored directory is still added, so ignored
//   directories are walked too);
// - the ignore and attribute rules: `.gitignore` and `.gitattributes` in every directory from
//   the work tree root down to each pathspec (those below are walked anyway), info/exclude,
//   info/attributes, the global and system files;
// - the configuration (core.autocrlf, core.fileMode, filters, sparse checkout...).
// Anything this cannot see through is left to git: magic and glob pathspecs, linked work
// trees, configuration that includes other files or names other ignore/attribute files, and
// variables that change where git looks.
import { dirname, join, relative, resolve, sep } from "../sys/path.ts";
import { type Result, ok, err } from "../result.ts";

/** What to fingerprint for one `snapshot` call. */
export interface StatScope {
  /** Everything the answer depends on besides the file system: compared as a string. */
  key: string;
  /** The work tree root; walked paths are recorded relative to it. */
  root: string;
  /** Pathspec targets, relative to the root ("" is the root itself): lstat'ed, and walked if directories. */
  targets: string[];
  /** Directories between the root and a target (relative; "" is the root): must stay plain directories. */
  ancestors: string[];
  /** Files whose content can change the answer (absolute): the index, configuration, rules. */
  watched: string[];
  /** The configuration files among `watched`: checked for what the shortcut cannot follow. */
  configs: string[];
  /** The index (first of `watched`). */
  index: string;
}

export interface ScopeInput {
  /** The directory pathspecs are relative to (absolute, real). */
  cwd: string;
  /** The `.git` directory found by find-index.ts for a plain work tree, or null. */
  gitDir: string | null;
  pathspecs: string[];
  env: Record<string, string | undefined>;
}

// Variables after which git reads configuration the scope cannot list.
const OPAQUE_VARIABLES = /^GIT_CONFIG(_COUNT|_PARAMETERS|_KEY_\d+|_VALUE_\d+)?$/;
// A pathspec git would treat as a pattern rather than a path.
const PATTERN = /[*?[\\]/;
/** Configuration keys that pull in files the scope does not watch (matched case-insensitively). */
export const OPAQUE_CONFIG = /\b(include|includeif|excludesfile|attributesfile|worktree)\b/i;

/** The scope of a `snapshot` call, or why the shortcut does not apply to it. */
export function statScope(input: ScopeInput): Result<StatScope> {
  const { cwd, gitDir, pathspecs, env } = input;
  if (gitDir === null || !gitDir.endsWith(`${sep}.git`)) return err("not a plain work tree");
  const root = dirname(gitDir);
  if (relative(root, cwd).startsWith("..")) return err("the directory is outside the work tree");
  const opaque = Object.keys(env).find((k) => OPAQUE_VARIABLES.test(k));
  if (opaque !== undefined) return err(`${opaque} is set`);

  const targets: string[] = [];
  const ancestors = new Set<string>([""]);
  for (const p of pathspecs) {
    if (p === "" || p.startsWith(":") || PATTERN.test(p) || p.includes("\0")) return err(`pathspec ${JSON.stringify(p)} is not a plain path`);
    const rel = relative(root, resolve(cwd, p));
    if (rel === ".." || rel.startsWith(`..${sep}`)) return err(`pathspec ${JSON.stringify(p)} is outside the work tree`);
    if (rel === ".git" || rel.startsWith(`.git${sep}`)) return err(`pathspec ${JSON.stringify(p)} is inside .git`);
    targets.push(rel);
    for (let d = dirname(rel); d !== "." && d !== ""; d = dirname(d)) ancestors.add(d);
  }

  const home = env.HOME;
  const xdg = env.XDG_CONFIG_HOME || (home ? join(home, ".config") : null);
  const configs = [join(gitDir, "config"), join(gitDir, "config.worktree")];
  if (env.GIT_CONFIG_GLOBAL !== undefined) configs.push(env.GIT_CONFIG_GLOBAL);
  else {
    if (home) configs.push(join(home, ".gitconfig"));
    if (xdg) configs.push(join(xdg, "git", "config"));
  }
  if (env.GIT_CONFIG_NOSYSTEM === undefined) {
    // Where a distribution's git (prefix /usr) and a source build (prefix /usr/local) look.
    configs.push(...(env.GIT_CONFIG_SYSTEM !== undefined ? [env.GIT_CONFIG_SYSTEM] : ["/etc/gitconfig", "/usr/local/etc/gitconfig"]));
  }
  const rules = [
    join(gitDir, "info", "exclude"),
    join(gitDir, "info", "attributes"),
    join(gitDir, "info", "sparse-checkout"),
    join(root, ".gitmodules"),
    ...(xdg ? [join(xdg, "git", "ignore"), join(xdg, "git", "attributes")] : []),
    ...(env.GIT_ATTR_NOSYSTEM === undefined ? ["/etc/gitattributes", "/usr/local/etc/gitattributes"] : []),
    ...[...ancestors].sort().flatMap((d) => [join(root, d, ".gitignore"), join(root, d, ".gitattributes")]),
  ];

  // Relevant variables: every GIT_* (index, ceiling, config switches...) and those that place
  // the global files. The working directory and pathspecs complete the question.
  const vars = Object.keys(env)
    .filter((k) => k.startsWith("GIT_") || k === "HOME" || k === "XDG_CONFIG_HOME")
    .sort()
    .map((k) => [k, env[k]]);
  const key = JSON.stringify({ cwd, root, pathspecs, vars });
  return ok({
    key,
    root,
    targets,
    ancestors: [...ancestors].sort(),
    watched: [join(gitDir, "index"), ...configs, ...rules],
    configs,
    index: join(gitDir, "index"),
  });
}
