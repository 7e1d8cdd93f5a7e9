// Finding the index git would use without starting git (`git rev-parse --git-path index` costs
// a process, 2-3 ms of the no-op path). Only the plain cases are answered here; anything else
// returns null and hash.ts asks git, so an answer is never different from git's.
import { readFileSync, realpathSync, statSync, type Stat as Stats } from "../sys/fs.ts";
import { dirname, join } from "../sys/path.ts";

/**
 * Variables that change where git looks for the repository or its index. With any of them set
 * git is asked: pre-commit hooks set GIT_INDEX_FILE, and GIT_DIR and friends override discovery.
 */
const LOCATION_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_NAMESPACE",
  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  "GIT_IMPLICIT_WORK_TREE",
];

const statOrNull = (path: string | Buffer): Stats | null => statSync(path, { throwIfNoEntry: false }) ?? null;

/**
 * The index of the work tree `cwd` (an absolute path) is in, as git's repository discovery would
 * find it, or null when that is not certain. Answered: `cwd` or one of its parents, on the same
 * file system and below every GIT_CEILING_DIRECTORIES entry, holds a `.git` directory that looks
 * like a repository (HEAD, objects, refs), or a `.git` file (`gitdir: <path>`: a linked work
 * tree, a submodule) pointing at a directory with a HEAD. Left to git: any of the variables
 * above set, a directory on the way that could itself be a git directory (has a HEAD, or is
 * named .git: cwd inside .git or a bare repository, where git finds no work tree), a file system
 * boundary, anything unreadable or unusual.
 * The path is bytes, because the `.git` file of a linked work tree may name a path that is not UTF-8.
 */
export function findIndex(cwd: string, env: Record<string, string | undefined>): Buffer | null {
  try {
    return discover(cwd, env);
  } catch {
    // Unreadable (EACCES, ELOOP...): git is asked, and explains.
    return null;
  }
}

function discover(cwd: string, env: Record<string, string | undefined>): Buffer | null {
  if (LOCATION_VARIABLES.some((v) => env[v] !== undefined)) return null;
  if (!cwd.startsWith("/")) return null;
  if (cwd.split("/").includes(".git")) return null;
  const ceilings = ceilingDirectories(env.GIT_CEILING_DIRECTORIES);
  const cwdStat = statOrNull(cwd);
  if (cwdStat === null || !cwdStat.isDirectory()) return null;
  let dir = cwd;
  for (;;) {
    const dotGit = join(dir, ".git");
    const st = statOrNull(dotGit);
    if (st !== null) {
      if (st.isDirectory()) return isRepositoryDir(dotGit) ? Buffer.from(join(dotGit, "index")) : null;
      if (st.isFile()) return indexFromGitFile(dir, dotGit);
      return null;
    }
    // cwd (or a parent) may itself be a git directory: git would stop there.
    if (statOrNull(join(dir, "HEAD")) !== null) return null;
    const parent = dirname(dir);
    if (parent === dir || ceilings.includes(parent)) return null;
    const parentStat = statOrNull(parent);
    if (parentStat === null || parentStat.dev !== cwdStat.dev) return null;
    dir = parent;
  }
}

// Git compares real paths (cwd is one already, from getcwd).
function ceilingDirectories(value: string | undefined): string[] {
  return (value ?? "")
    .split(":")
    .filter((c) => c.startsWith("/"))
    .map((c) => {
      try {
        return realpathSync(c);
      } catch {
        return c.replace(/\/+$/, "") || "/";
      }
    });
}

function isRepositoryDir(gitDir: string): boolean {
  return (
    statOrNull(join(gitDir, "HEAD"))?.isFile() === true &&
    statOrNull(join(gitDir, "objects"))?.isDirectory() === true &&
    statOrNull(join(gitDir, "refs"))?.isDirectory() === true
  );
}

// `.git` as a file: one line `gitdir: <path>`, the path absolute or relative to the file's
// directory. The index is in that directory, also for a linked work tree (its own index).
function indexFromGitFile(dir: string, dotGit: string): Buffer | null {
  let content: Buffer;
  try {
    content = readFileSync(dotGit);
  } catch {
    return null;
  }
  const prefix = Buffer.from("gitdir: ");
  if (content.length > 4096 || !content.subarray(0, prefix.length).equals(prefix)) return null;
  let end = content.length;
  while (end > prefix.length && (content[end - 1] === 10 || content[end - 1] === 13)) end--;
  const path = content.subarray(prefix.length, end);
  if (path.length === 0 || path.includes(10) || path.includes(13)) return null;
  const gitDir = path[0] === 47 ? path : Buffer.concat([Buffer.from(`${dir}/`), path]);
  if (statOrNull(Buffer.concat([gitDir, Buffer.from("/HEAD")]))?.isFile() !== true) return null;
  return Buffer.concat([gitDir, Buffer.from("/index")]);
}
