#!/usr/bin/env bash
# Runs example/build.sh twice in a fresh git repo with the built executable: the first run
# does the work, the second finds every input unchanged and skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exe_dir=$(cd "$here/../dist" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/taskrunner-example.XXXXXX")
trap 'rm -rf "$work"' EXIT

export PATH="$exe_dir:$PATH"
export TASKRUNNER_STATE_DIRECTORY="$work/state"
export TASKRUNNER_LOG_INFO=1
export GIT_AUTHOR_NAME=example GIT_AUTHOR_EMAIL=example@example.com
export GIT_COMMITTER_NAME=example GIT_COMMITTER_EMAIL=example@example.com

cd "$work"
mkdir repo && cd repo
git init -q
mkdir src
echo "record user { name }" > schema.txt
echo "fn main() {}" > src/main.txt
echo "fn util() {}" > src/util.txt
cp "$here/build.sh" build.sh
printf 'generated.txt\npackage.txt\n' > .gitignore
git add . && git commit -qm "example"

echo "=== first run: every task runs"
taskrunner -n build bash build.sh
echo
echo "=== second run: nothing changed, every task is skipped"
taskrunner -n build bash build.sh
echo
echo "=== third run: src/util.txt changed, so build, lint and package run; generate is skipped"
echo "fn util() { 1 }" > src/util.txt
taskrunner -n build bash build.sh
