#!/usr/bin/env bash
# Installs the npm packages of the web parts (lens/, viewer_plugin/) when missing or stale,
# then builds the viewer plugin.
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

# Build the viewer plugin's bundle (viewer_plugin/dist/, served at /viewer) when missing or
# older than its sources.
plugin=viewer_plugin
bundle="$plugin/dist/loupe-mirador.js"
if [ -f "$plugin/build.mjs" ]; then
  if [ ! -f "$bundle" ] || [ -n "$(find "$plugin/src" "$plugin/build.mjs" "$plugin/package-lock.json" -newer "$bundle" -print -quit)" ]; then
    echo "building $plugin"
    (cd "$plugin" && npm run --silent build)
  fi
fi
