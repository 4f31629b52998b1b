import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  contentStateLink, contentStateTarget, decodeContentState, encodeContentState, regionContentState,
} from '../src/contentState.js';

const MANIFEST = 'https://example.org/iiif/m1/manifest.json';
const CANVAS = 'https://example.org/iiif/m1/canvas/p1';

test('a region content state round-trips through the encoding', () => {
  const state = regionContentState(MANIFEST, CANVAS, [10.4, 20, 300.6, 40]);
  assert.equal(state.target.id, `${CANVAS}#xywh=10,20,301,40`);
  const encoded = encodeContentState(state);
  assert.match(encoded, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeContentState(encoded), state);
  assert.deepEqual(contentStateTarget(encoded), { canvasId: CANVAS, manifestId: MANIFEST, xywh: [10, 20, 301, 40] });
});

test('non-ASCII text survives (encodeURIComponent before base64)', () => {
  const state = { label: 'Vierge à l’Enfant — 聖母' };
  assert.deepEqual(decodeContentState(encodeContentState(state)), state);
  assert.equal(decodeContentState(encodeContentState('plain words')), 'plain words');
});

test('the forms a content state may take are all read', () => {
  assert.deepEqual(contentStateTarget({
    target: { selector: { type: 'FragmentSelector', value: 'xywh=1,2,3,4' }, source: { id: CANVAS, partOf: [{ id: MANIFEST }] }, type: 'SpecificResource' },
  }), { canvasId: CANVAS, manifestId: MANIFEST, xywh: [1, 2, 3, 4] });
  assert.deepEqual(contentStateTarget({ target: { id: MANIFEST, type: 'Manifest' } }),
    { canvasId: null, manifestId: MANIFEST, xywh: null });
  assert.deepEqual(contentStateTarget(MANIFEST), { canvasId: null, manifestId: MANIFEST, xywh: null });
  assert.throws(() => contentStateTarget({ target: { id: CANVAS, type: 'Canvas' } }), /within a manifest/);
  assert.throws(() => decodeContentState('not base64 at all!'), /not a IIIF content state/);
});

test('a link keeps the viewer page and its other parameters', () => {
  const link = new URL(contentStateLink('https://loupe.example.org/viewer?lang=fr', regionContentState(MANIFEST, CANVAS)));
  assert.equal(link.pathname, '/viewer');
  assert.equal(link.searchParams.get('lang'), 'fr');
  assert.equal(contentStateTarget(link.searchParams.get('iiif-content')).canvasId, CANVAS);
});
