// Builds ONE executable, dist/taskrunner. The flags are the start-up measurements of
// ../shared/BUN-NOTES.md: --splitting keeps lazily imported clients (S3, GitHub) out of the
// start-up parse, --bytecode skips parsing of what is loaded, and --bytecode with top-level
// await needs --format=esm.
import { $ } from "bun";

const outfile = "dist/taskrunner";
await $`bun build src/main.ts --compile --splitting --bytecode --minify --format=esm --outfile ${outfile}`.quiet();
console.log(`built ${outfile}`);
