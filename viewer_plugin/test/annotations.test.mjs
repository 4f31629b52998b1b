import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_FILTER, describeAnnotation, facetValues, isShown, pageForMirador,
} from '../src/annotations.js';

const CANVAS = 'https://example.org/canvas/1';
const machine = (n, confidence, model = 'loupe-tiny', box = '10,20,30,40') => ({
  body: { purpose: 'tagging', type: 'TextualBody', value: `tag ${n}` },
  creator: 'Loupe zero-shot tagging',
  generator: { label: { none: [model] }, name: model, type: 'Software' },
  id: `https://loupe.example.org/iiif/annotations/abc.json#region-${n}`,
  'loupe:confidence': confidence,
  motivation: 'tagging',
  target: {
    source: { id: CANVAS, partOf: [{ id: 'm', type: 'Manifest' }], type: 'Canvas' },
    type: 'SpecificResource',
    ...(box ? { selector: { conformsTo: 'http://www.w3.org/TR/media-frags/', type: 'FragmentSelector', value: `xywh=${box}` } } : {}),
  },
  type: 'Annotation',
});
const human = {
  body: { type: 'TextualBody', value: 'Detail: Gabriel' }, id: 'https://example.org/anno/1', motivation: 'commenting',
  target: `${CANVAS}#xywh=1,2,3,4`, type: 'Annotation',
};
const page = { id: 'https://loupe.example.org/iiif/annotations/abc.json', items: [machine(1, 0.9), machine(2, 0.2, 'detector'), machine(3, 0.5, 'loupe-tiny', null), human], type: 'AnnotationPage' };

test('each annotation is described with its kind, region id, model and box', () => {
  const facts = describeAnnotation(machine(7, 0.75));
  assert.deepEqual(facts, {
    box: [10, 20, 30, 40], canvasId: CANVAS, confidence: 0.75, id: machine(7, 0.75).id, kind: 'proposed', label: 'tag 7',
    model: 'loupe-tiny', regionId: 7, source: 'Loupe zero-shot tagging',
  });
  assert.equal(describeAnnotation(human).kind, 'human');
  assert.deepEqual(describeAnnotation(human).box, [1, 2, 3, 4]);
  assert.equal(describeAnnotation(machine(1, 0.9), { [machine(1, 0.9).id]: 'accepted' }).kind, 'accepted');
  assert.equal(describeAnnotation({ ...machine(1, 0.9), 'loupe:review': 'accepted' }).kind, 'accepted');
  assert.equal(describeAnnotation(machine(1, 0.9), { [machine(1, 0.9).id]: 'rejected' }).kind, 'rejected');
});

test('the filter hides machine annotations by switch, confidence, model and source, never people\'s', () => {
  const ids = (filter, reviews) => pageForMirador(page, { ...DEFAULT_FILTER, ...filter }, reviews).items.map((a) => a.id.split('/').pop());
  assert.deepEqual(ids({}), ['abc.json#region-1', 'abc.json#region-2', 'abc.json#region-3', '1']);
  assert.deepEqual(ids({ visible: false }), ['1']);
  assert.deepEqual(ids({ minConfidence: 0.5 }), ['abc.json#region-1', 'abc.json#region-3', '1']);
  assert.deepEqual(ids({ hiddenModels: ['detector'] }), ['abc.json#region-1', 'abc.json#region-3', '1']);
  assert.deepEqual(ids({ hiddenSources: ['Loupe zero-shot tagging'] }), ['1']);
  assert.deepEqual(ids({ hiddenKinds: ['accepted'] }, { [page.items[0].id]: 'accepted' }), ['abc.json#region-2', 'abc.json#region-3', '1']);
  assert.deepEqual(ids({}, { [page.items[1].id]: 'rejected' }), ['abc.json#region-1', 'abc.json#region-3', '1']);
  assert.equal(isShown({ ...describeAnnotation(machine(9, 0.1)), confidence: null }, { ...DEFAULT_FILTER, minConfidence: 0.9 }), true);
});

test('machine boxes get an SvgSelector in their kind\'s colours; people\'s and whole-canvas ones are left alone', () => {
  const [proposed, other, wholeCanvas, person] = pageForMirador(page, DEFAULT_FILTER).items;
  const [fragment, svg] = proposed.target.selector;
  assert.equal(fragment.type, 'FragmentSelector');
  assert.equal(svg.type, 'SvgSelector');
  assert.match(svg.value, /<path d="M10,20 h30 v40 h-30 Z" stroke="#ff9800"/);
  assert.match(svg.value, /stroke-dasharray/);
  assert.ok(other.target.selector[1].value.includes('#ff9800'));
  assert.equal(wholeCanvas.target.selector, undefined);
  assert.deepEqual(person, human);
  const accepted = pageForMirador(page, DEFAULT_FILTER, { [page.items[0].id]: 'accepted' }).items[0];
  assert.match(accepted.target.selector[1].value, /stroke="#2e7d32"/);
  assert.doesNotMatch(accepted.target.selector[1].value, /dasharray/);
  assert.equal(page.items[0].target.selector.type, 'FragmentSelector', 'the page given is not changed');
});

test('facets list the models and processes of machine annotations', () => {
  const described = page.items.map((a) => describeAnnotation(a));
  assert.deepEqual(facetValues(described, 'model'), ['detector', 'loupe-tiny']);
  assert.deepEqual(facetValues(described, 'source'), ['Loupe zero-shot tagging']);
});
