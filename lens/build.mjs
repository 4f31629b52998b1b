/**
 * Builds dist/ (served by the search service at /lens/_app/, /lens/sw.js and the pages) with esbuild:
 *
 * - lens.js: the app (ES module). It loads ./recognizer.js at run time (import()), so the
 *   heavy recognizer is its own file: src/engine.js (TensorFlow.js on the fastest backend,
 *   OpenCV.js) with src/recognizer.js, built when that exists;
 * - qr.js, dashboard.js: the QR-code page and the curators' dashboard;
 * - sw.js: the service worker, told the build id and the app's files to keep offline;
 * - index.html, qr.html, stats.html, lens.css, pages.css; the TensorFlow.js WASM backend's
 *   .wasm files (the recognizer points its WASM paths here).
 *
 * Usage: node build.mjs. Prints the size of each output.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const DIST = 'dist';
const shared = { bundle: true, legalComments: 'linked', logLevel: 'warning', minify: true, sourcemap: true,
  target: ['es2020', 'chrome100', 'safari15'] };

rmSync(DIST, { recursive: true, force: true });
mkdirSync(DIST, { recursive: true });

const entries = [
  { entryPoints: ['src/main.js'], outfile: `${DIST}/lens.js`, format: 'esm', external: ['./recognizer.js'] },
  { entryPoints: ['src/qr.js'], outfile: `${DIST}/qr.js`, format: 'esm' },
  { entryPoints: ['src/dashboard.js'], outfile: `${DIST}/dashboard.js`, format: 'esm' },
];
if (existsSync('src/recognizer.js')) {
  // dist/recognizer.js: TensorFlow.js, OpenCV.js and src/recognizer.js, started by engine.js.
  entries.push({ entryPoints: ['src/engine.js'], outfile: `${DIST}/recognizer.js`, format: 'esm',
    // OpenCV.js's Emscripten loader mentions Node's modules it never uses in a browser.
    external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os', 'url'] });
}
await Promise.all(entries.map((options) => build({ ...shared, ...options })));

for (const file of ['index.html', 'qr.html', 'stats.html', 'lens.css', 'pages.css']) {
  copyFileSync(join('src', file), join(DIST, file));
}
const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
if (existsSync(wasmDir)) {
  for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, file), join(DIST, file));
}

// What the app needs offline, and a build id that changes with any of it.
const appFiles = readdirSync(DIST).filter((f) => /\.(js|css|wasm)$/.test(f) && !['qr.js', 'dashboard.js', 'pages.css'].includes(f));
if (!appFiles.includes('recognizer.js')) appFiles.push('recognizer.js');
const hash = createHash('sha256');
for (const file of readdirSync(DIST).sort()) hash.update(file).update(readFileSync(join(DIST, file)));
await build({ ...shared, entryPoints: ['src/sw.js'], outfile: `${DIST}/sw.js`, format: 'iife', sourcemap: false,
  define: { BUILD: JSON.stringify(hash.digest('hex').slice(0, 16)), APP_FILES: JSON.stringify(appFiles.sort()) } });

for (const file of readdirSync(DIST).filter((f) => !f.endsWith('.map')).sort()) {
  console.log(`${DIST}/${file}  ${(statSync(join(DIST, file)).size / 1024).toFixed(0)} KiB`);
}
