#!/usr/bin/env bash
# Installs the npm packages of the web parts (lens/, viewer_plugin/) when missing or stale.
set -euo pipefail
for dir in lens viewer_plugin; do
  [ -f "$dir/package.json" ] || continue
  stamp="$dir/node_modules/.loupe-installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package.json" ] && { [ ! -f "$dir/package-lock.json" ] || [ "$stamp" -nt "$dir/package-lock.json" ]; }; then
    continue
  fi
  echo "installing npm packages in $dir"
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
  touch "$stamp"
done
