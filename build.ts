// Builds ONE executable, dist/taskrunner. The flags are the start-up measurements of
// ../shared/BUN-NOTES.md: --splitting keeps lazily imported clients (S3, GitHub) out of the
// start-up parse, --bytecode skips parsing of what is loaded, and --bytecode with top-level
// await needs --format=esm. --compile-jit-policy=32 multiplies JavaScriptCore's tier-up thresholds
// by 32 at start: the no-op path is run-once code that never repays compiling it (measured: ~1 ms
// and ~1 MiB less for the no-op); main.ts restores the normal policy once a task runs longer.
// --no-compile-autoload-dotenv/-bunfig: the settings and a task's environment come from the
// environment the runner was started with (SPEC), never from a .env or bunfig.toml that happens
// to be in the working directory; not looking for them is also ~0.2 ms less per start.
import { $ } from "bun";

const outfile = "dist/taskrunner";
await $`bun build src/main.ts --compile --splitting --bytecode --minify --format=esm --compile-jit-policy=32 --no-compile-autoload-dotenv --no-compile-autoload-bunfig --outfile ${outfile}`.quiet();
console.log(`built ${outfile}`);
