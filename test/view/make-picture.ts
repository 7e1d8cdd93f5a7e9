// Makes docs/live-view.svg, the README's picture of the live view: the example build
// (example/build.sh, with a failing type check added and its tasks slowed down so that several
// run at once) through the compiled executable on an 80x16 pseudo-terminal, pictured while it
// runs, when its status area shows. Run after `npm run build`: bun test/view/make-picture.ts [OUT.svg]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { EXE_DIR } from "../helpers/env.ts";
import { playWithMarks, runInPty } from "../helpers/pty.ts";
import { Screen } from "../helpers/screen.ts";
import { screenToSvg } from "../helpers/svg.ts";

const out = resolve(process.argv[2] ?? resolve(import.meta.dir, "../../docs/live-view.svg"));
const work = mkdtempSync(join(tmpdir(), "taskrunner-picture-"));
const files: Record<string, string> = {
  "schema.txt": "record user { name }\n",
  "src/main.txt": "fn main() {}\n",
  "src/util.txt": "fn util() {}\n",
  ".gitignore": "generated.txt\npackage.txt\n",
  "build.sh": [
    "snapshot build.sh schema.txt src",
    "export TOP=$PPID",
    `taskrunner -n generate bash -c 'snapshot schema.txt --outputs generated.txt; echo "generating from schema"; sleep 1.2; tr a-z A-Z < schema.txt > generated.txt' &`,
    `taskrunner -n lint bash -c 'snapshot src; echo "linting $(ls src | wc -l) files"; sleep 0.5; echo "no problems"' &`,
    `taskrunner -n typecheck bash -c 'snapshot src; sleep 0.8; echo "src/util.txt(1,4): error: cannot find name util" >&2; exit 2' &`,
    // The moment pictured: lint and typecheck have ended, generate still runs.
    `sleep 1.0; printf "\\033]7770;picture\\007" > "$(readlink /proc/$TOP/fd/1)"`,
    "wait",
  ].join("\n"),
};
try {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(work, name)), { recursive: true });
    writeFileSync(join(work, name), text);
  }
  const env = { PATH: `${EXE_DIR}:/usr/bin:/bin`, HOME: work, TERM: "xterm-256color", GIT_CONFIG_NOSYSTEM: "1", TASKRUNNER_STATE_DIRECTORY: join(work, "state"), TASKRUNNER_LOG_INFO: "1", TZ: "UTC" };
  Bun.spawnSync(["bash", "-c", "git init -q && git add -A && git -c user.name=a -c user.email=a@a commit -qm example"], { cwd: work, env });
  const result = await runInPty(["taskrunner", "-n", "build", "bash", "build.sh"], { cols: 80, rows: 16, cwd: work, env });
  const screen = new Screen({ cols: 80, rows: 16 });
  let svg: string | null = null;
  await playWithMarks(result.bytes, screen, () => {
    svg = screenToSvg(screen, { title: "taskrunner -n build bash build.sh" });
  });
  if (svg === null) throw new Error(`the build never reached the pictured moment:\n${Buffer.from(result.bytes).toString()}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, svg);
  console.log(`wrote ${out}\n${screen.lines().join("\n")}`);
  screen.dispose();
} finally {
  rmSync(work, { recursive: true, force: true });
}
