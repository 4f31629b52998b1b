#!/usr/bin/env bash
# Installs the npm packages of the web parts (lens/, viewer_plugin/) when missing or stale,
# then builds the viewer plugin and the lens app.
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

# Build the viewer plugin's bundle (viewer_plugin/dist/, served at /viewer) and the lens app
# (lens/dist/, served at /lens/) when missing or older than their sources.
for dir in viewer_plugin lens; do
  [ -f "$dir/build.mjs" ] || continue
  case "$dir" in viewer_plugin) built="$dir/dist/loupe-mirador.js" ;; *) built="$dir/dist/sw.js" ;; esac
  if [ ! -f "$built" ] || [ -n "$(find "$dir/src" "$dir/build.mjs" "$dir/package-lock.json" -newer "$built" -print -quit)" ]; then
    echo "building $dir"
    (cd "$dir" && npm run --silent build)
  fi
done
