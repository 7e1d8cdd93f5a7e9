#!/usr/bin/env bash
# An example build: a top-level task that runs two tasks in parallel and then one that
# depends on both. Each declares its inputs with `snapshot`, so a second run skips them all.
set -euo pipefail
snapshot build.sh schema.txt src

taskrunner -n generate bash -c '
  snapshot schema.txt --outputs generated.txt
  echo "generating from schema"
  tr a-z A-Z < schema.txt > generated.txt
' &
taskrunner -n lint bash -c '
  snapshot src
  echo "linting $(ls src | wc -l) files"
' &
wait

taskrunner -n package bash -c '
  snapshot schema.txt src
  echo "packaging"
  cat generated.txt src/* > package.txt
  echo "wrote package.txt ($(wc -l < package.txt) lines)"
'
