// What the executable loads before a task's first line of work: the entry chunk and every chunk
// it imports statically (dynamic imports are what load lazily). The no-op path must not load
// the S3 or GitHub clients, node:crypto, node:fs (sys/fs.ts replaces it there: 0.8 ms and
// 3.4 MiB a start) or node:path (sys/path.ts: ~1.8 ms less for the no-op). Built here the way
// build.ts builds, without --compile, so the chunks can be read.
import { test, expect, afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const out = mkdtempSync(join(tmpdir(), "taskrunner-chunks-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test("start-up chunks import no node:fs, node:crypto, S3 or GitHub code", async () => {
  const built = await Bun.build({
    entrypoints: [resolve(import.meta.dir, "../../src/main.ts")],
    outdir: out,
    target: "bun",
    format: "esm",
    splitting: true,
  });
  expect(built.success).toBe(true);
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(out, file), "utf8");
    // Static imports only: `import ... from "x"` and `import "x"`, not `import("x")`.
    for (const m of text.matchAll(/^import\s+(?:[^"';]*?\s+from\s+)?"([^"]+)";?$/gm)) {
      const spec = m[1]!;
      if (spec.startsWith("./")) visit(spec.slice(2));
      else external.add(spec);
    }
    expect({ file, s3: text.includes("@aws-sdk"), github: text.includes("@octokit") }).toEqual({ file, s3: false, github: false });
  };
  visit("main.js");
  expect(seen.size).toBeGreaterThan(1); // the walk follows chunks, so the check can fail
  expect([...external].sort()).toEqual(["buffer", "bun:ffi"]);
  // The lazily loaded side does use them: proof that the bundle was read right.
  const all = new Bun.Glob("*.js").scanSync(out);
  const lazy = [...all].filter((f) => !seen.has(f)).map((f) => readFileSync(join(out, f), "utf8")).join("\n");
  expect(lazy.includes('from "fs"')).toBe(true);
  expect(lazy.includes("@aws-sdk")).toBe(true);
}, 60_000);
