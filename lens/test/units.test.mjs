// Unit tests of the app's modules that need no browser (node --experimental-detect-module --test test/).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { candidates, pickBackend } from '../src/backend.js';
import { bundleFiles, chooseLanguage, guideOf, pick, pickOne } from '../src/guide.js';
import { project } from '../src/overlay.js';
import { localTime } from '../src/stats.js';
import { Tracker } from '../src/tracker.js';
import { say } from '../src/ui.js';

test('guideOf reads the guide from the app, QR and dashboard addresses only', () => {
  assert.equal(guideOf('https://m.example/lens/masters/'), 'masters');
  assert.equal(guideOf('https://m.example/lens/masters/qr'), 'masters');
  assert.equal(guideOf('https://m.example/lens/masters/stats?x=1'), 'masters');
  assert.equal(guideOf('https://m.example/lens/'), null);
  assert.equal(guideOf('https://m.example/lens/Bad_Guide/'), null);
});

test('language maps: the chosen language, its base, none, the guide languages, any', () => {
  const map = { en: ['Night'], 'pt-BR': ['Noite'], none: ['—'] };
  assert.deepEqual(pick(map, 'en', ['en']), ['Night']);
  assert.deepEqual(pick(map, 'pt', ['en']), ['Noite']);
  assert.deepEqual(pick(map, 'it', ['en']), ['—']);
  assert.deepEqual(pick({ it: ['Notte'] }, 'en', ['en']), ['Notte']);
  assert.deepEqual(pick(undefined, 'en'), []);
  assert.equal(pickOne({ en: 'https://a/en.mp3' }, 'en'), 'https://a/en.mp3');
  assert.equal(pickOne({}, 'en'), null);
});

test('the first language: saved, then the phone preferences (base language too), then the guide first', () => {
  assert.equal(chooseLanguage(['en', 'it'], ['fr-FR', 'it-IT'], null), 'it');
  assert.equal(chooseLanguage(['en', 'it'], ['fr-FR'], null), 'en');
  assert.equal(chooseLanguage(['en', 'it'], ['it'], 'en'), 'en');
  assert.equal(chooseLanguage(['en', 'it'], ['it'], 'de'), 'it');
  assert.equal(chooseLanguage([], ['it'], null), 'none');
});

test('bundleFiles lists the bundle, item images, models, descriptors and features', () => {
  const files = bundleFiles({
    items: [{ image: 'items/a.jpg' }, { image: null }],
    modes: { retrieval: { model: 'retrieval/model.json', descriptors: 'retrieval/descriptors.bin' },
      classify: { model: 'classify/model.json' } },
    verification: { features: 'verification/orb.bin' },
  });
  assert.deepEqual(files.sort(), ['bundle.json', 'classify/model.json', 'items/a.jpg', 'retrieval/descriptors.bin',
    'retrieval/model.json', 'verification/orb.bin']);
});

test('homography projection', () => {
  assert.deepEqual(project([2, 0, 10, 0, 2, 20, 0, 0, 1], 5, 5), [20, 30]);
  assert.deepEqual(project([1, 0, 0, 0, 1, 0, 0, 0, 2], 4, 6), [2, 3]);
});

test('local time carries the UTC offset', () => {
  const text = localTime(new Date(Date.UTC(2026, 11, 3, 22, 10, 5)));
  assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  assert.equal(new Date(text).getTime(), Date.UTC(2026, 11, 3, 22, 10, 5));
});

test('the tracker shows an artwork after confirm frames, hides it after release misses, and measures dwell', () => {
  let now = 0;
  const tracker = new Tracker({ confirm: 2, release: 3, now: () => now });
  const seen = (artwork, detail = null) => ({ artwork, detail });
  const step = (decision) => { now += 100; return tracker.update(decision); };
  assert.equal(step(seen('a')).shown, null);
  const shown = step(seen('a'));
  assert.equal(shown.shown.artwork, 'a');
  assert.deepEqual(shown.started, ['a']);
  assert.equal(step(seen(null)).shown.artwork, 'a', 'one odd frame does not hide it');
  assert.deepEqual(step(seen('a', 'a__d')).started, ['a__d']);
  step(seen(null));
  step(seen(null));
  const gone = step(seen(null));
  assert.equal(gone.shown, null);
  assert.deepEqual(gone.ended.map((e) => [e.item, e.kind]), [['a__d', 'detail'], ['a', 'artwork']]);
  assert.equal(gone.ended[1].dwellMs, 500);
  step(seen('b'));
  const switched = step(seen('b'));
  assert.equal(switched.shown.artwork, 'b');
});

test('another artwork framed steadily replaces the one shown at once', () => {
  let now = 0;
  const tracker = new Tracker({ confirm: 2, release: 10, now: () => { now += 50; return now; } });
  tracker.update({ artwork: 'a' });
  tracker.update({ artwork: 'a' });
  tracker.update({ artwork: 'b' });
  const result = tracker.update({ artwork: 'b' });
  assert.equal(result.shown.artwork, 'b');
  assert.deepEqual(result.ended.map((e) => e.item), ['a']);
});

test('backends: WebGPU and hardware WebGL first, software WebGL passed over, then WASM', async () => {
  const all = ['cpu', 'wasm', 'webgl', 'webgpu'];
  assert.deepEqual(candidates(all, { gpu: true, renderer: 'Adreno (TM) 640' }), ['webgpu', 'webgl', 'wasm', 'cpu']);
  assert.deepEqual(candidates(all, { gpu: false, renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))' }),
    ['wasm', 'cpu']);
  assert.deepEqual(candidates(['cpu', 'webgl'], { gpu: false, renderer: null }), ['cpu']);
  const tried = [];
  const tf = {
    findBackendFactory: (name) => (['cpu', 'wasm', 'webgl'].includes(name) ? () => ({}) : null),
    setBackend: async (name) => { tried.push(name); if (name === 'webgl') throw new Error('lost context'); return true; },
    ready: async () => {},
  };
  assert.equal(await pickBackend(tf, { gpu: false, renderer: 'Mali-G78' }), 'wasm');
  assert.deepEqual(tried, ['webgl', 'wasm']);
});

test("the app's own words in the visitor's language, else English", () => {
  assert.equal(say('listen', 'it'), 'Ascolta');
  assert.equal(say('listen', 'pt-BR'), 'Listen');
  assert.equal(say('noCamera', 'de-AT', 'NotAllowedError'),
    'Die Kamera ist nicht verfügbar (NotAllowedError). Kamera erlauben und neu laden.');
});
