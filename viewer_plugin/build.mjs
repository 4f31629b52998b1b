/**
 * Builds dist/ with esbuild:
 *
 * - dist/loupe-mirador-plugin.es.js: the plugin as an ES module for npm consumers, who bring
 *   Mirador, React, MUI and i18next themselves (they stay imports: one copy of each, as
 *   Mirador's own plugins require);
 * - dist/loupe-mirador.js: a standalone IIFE with Mirador, React and MUI inside
 *   (``window.LoupeMirador``), for Loupe's /viewer page and pages without a bundler.
 *
 * Usage: node build.mjs [--watch]. Prints the size of each output.
 */
import { build, context } from 'esbuild';
import { statSync } from 'node:fs';

const shared = {
  bundle: true,
  jsx: 'automatic',
  legalComments: 'linked',
  logLevel: 'warning',
  sourcemap: true,
  target: ['es2020'],
};

const EXTERNAL = [
  'mirador', 'react', 'react-dom', 'react/jsx-runtime', 'react-i18next', 'i18next',
  '@mui/*', '@emotion/*',
];

const outputs = [
  {
    ...shared,
    entryPoints: ['src/index.js'],
    external: EXTERNAL,
    format: 'esm',
    outfile: 'dist/loupe-mirador-plugin.es.js',
  },
  {
    ...shared,
    define: { 'process.env.NODE_ENV': '"production"' },
    entryPoints: ['src/standalone.js'],
    format: 'iife',
    globalName: 'LoupeMirador',
    minify: true,
    outfile: 'dist/loupe-mirador.js',
  },
];

if (process.argv.includes('--watch')) {
  await Promise.all(outputs.map(async (options) => (await context(options)).watch()));
  console.log('watching src/ ...');
} else {
  await Promise.all(outputs.map((options) => build(options)));
  for (const { outfile } of outputs) {
    console.log(`${outfile}  ${(statSync(outfile).size / 1024).toFixed(0)} KiB`);
  }
}
