import { type Result, ok, err } from "../result.ts";

/** The repository statuses are posted to. */
export interface Repository {
  owner: string;
  repo: string;
}

// GitHub owner and repository names: letters, digits, `-`, `_`, `.`. Checked because both go
// into API paths.
const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * `GITHUB_REPOSITORY` is a name, or `owner/name` as GitHub Actions sets it; the owner is
 * `GITHUB_REPOSITORY_OWNER`. When both name an owner they must agree (GitHub compares owners
 * case-insensitively): a mismatch would post statuses to another repository.
 */
export function parseRepository(repository: string, owner: string): Result<Repository> {
  if (!NAME.test(owner)) {
    return err(`GITHUB_REPOSITORY_OWNER must be a GitHub user or organisation name, got ${JSON.stringify(owner)}`);
  }
  const parts = repository.split("/");
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length > 2 || !NAME.test(name) || (parts.length === 2 && !NAME.test(parts[0]!))) {
    return err(`GITHUB_REPOSITORY must be a repository name or owner/name, got ${JSON.stringify(repository)}`);
  }
  if (parts.length === 2 && parts[0]!.toLowerCase() !== owner.toLowerCase()) {
    return err(
      `GITHUB_REPOSITORY is ${JSON.stringify(repository)} but GITHUB_REPOSITORY_OWNER is ${JSON.stringify(owner)}; ` +
        "make them name the same owner (or give GITHUB_REPOSITORY as a bare name)",
    );
  }
  return ok({ owner, repo: name });
}
