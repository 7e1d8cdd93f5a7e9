// Makes docs/live-view.svg, the README's picture of the live view: a scripted build (the shape
// of example/build.sh, with a failing type check added) on a fake 80x16 terminal, taken
// mid-build, so the status area shows. Run: bun test/view/make-picture.ts [OUT.svg]
// To picture a real build instead: run it with test/helpers/pty.ts, feed the bytes to a
// Screen (test/helpers/screen.ts) and pass that to screenToSvg.
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { FakeTerminal, T0 } from "./harness.ts";
import { screenToSvg } from "../helpers/svg.ts";
import { clock } from "../../src/output/format.ts";
import type { StreamWord } from "../../src/output/format.ts";

const out = resolve(process.argv[2] ?? resolve(import.meta.dir, "../../docs/live-view.svg"));
const t = new FakeTerminal({ cols: 80, rows: 16 });
const say = (name: string, stream: StreamWord, text: string) => t.line(name, stream, text, clock(new Date(t.now), true));

t.view.taskStarted("1", "toplevel", "/tmp/taskrunner/builds/b/logs/toplevel.log");
say("toplevel", "info", "Inputs changed, running task");
t.advance(300);
for (const [id, name] of [["2", "generate"], ["3", "lint"], ["4", "typecheck"]] as const) {
  t.view.taskStarted(id, name, `/tmp/taskrunner/builds/b/logs/${name}.log`);
  say(name, "info", "Inputs changed, running task");
  t.advance(20);
}
t.advance(700);
say("generate", "stdout", "generating from schema");
say("lint", "stdout", "linting 3 files");
t.advance(400);
say("lint", "info", "success");
t.view.taskEnded("3", "ran", "/tmp/taskrunner/builds/b/logs/lint.log");
t.advance(600);
say("typecheck", "stdout", "src/parse.ts(3,7): error TS2322: Type 'string' is not assignable to 'number'.");
say("typecheck", "error", "Failed, exit code: 2");
t.view.taskEnded("4", "failed", "/tmp/taskrunner/builds/b/logs/typecheck.log");
t.advance(900);
say("generate", "warn", "schema.txt has no version line, assuming 1");
t.advance(450);

const screen = await t.sync();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, screenToSvg(screen, { title: "taskrunner -n toplevel bash build.sh" }));
console.log(`wrote ${out} (${screen.lines().length} rows, build time ${((t.now - T0) / 1000).toFixed(1)} s)`);
