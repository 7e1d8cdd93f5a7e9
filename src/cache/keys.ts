// The remote cache's object layout (SPEC §6). These names are shared with caches written by
// the earlier implementation, so they are interface: change nothing here lightly.

/** The archive name of a task's outputs for a hash: `<name>[-<version>]-<hash>.tar.zst`. */
export function archiveName(task: string, version: string | null, hash: string): string {
  return version === null ? `${task}-${hash}.tar.zst` : `${task}-${version}-${hash}.tar.zst`;
}

/** The object key of an archive. */
export function archiveKey(prefix: string, archive: string): string {
  return `${prefix}bundles/${archive}`;
}

/** The object key holding the hash last uploaded for a task on a branch (fuzzy cache). */
export function latestKey(prefix: string, task: string, branch: string): string {
  return `${prefix}latest/${task}-${branch}.txt`;
}

/** The object key of an uploaded log. */
export function logKey(logsPrefix: string, buildId: string, task: string): string {
  return `${logsPrefix}${buildId}/${task}.log.txt`;
}

/** Where an uploaded log can be viewed. */
export function logViewUrl(viewPrefix: string, buildId: string, task: string): string {
  return `${viewPrefix}${buildId}/${task}.log.txt`;
}

/** Content type of uploaded logs. */
export const LOG_CONTENT_TYPE = "text/plain; charset=utf-8";
