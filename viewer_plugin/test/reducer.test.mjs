import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionTypes, initialState, loupeReducer, windowState } from '../src/reducer.js';

test('a search answered after a newer one started is dropped', () => {
  const first = { type: 'region' };
  const second = { text: 'x', type: 'text' };
  let state = loupeReducer(initialState, { query: first, type: ActionTypes.SEARCH_STARTED, windowId: 'w' });
  state = loupeReducer(state, { query: second, type: ActionTypes.SEARCH_STARTED, windowId: 'w' });
  state = loupeReducer(state, { query: first, response: { results: [1] }, type: ActionTypes.SEARCH_DONE, windowId: 'w' });
  assert.equal(windowState(state, 'w').search.status, 'loading');
  state = loupeReducer(state, { query: second, response: { results: [2] }, type: ActionTypes.SEARCH_DONE, windowId: 'w' });
  assert.deepEqual(windowState(state, 'w').search.response, { results: [2] });
});

test('a saved review is remembered as decided; a failed one is not', () => {
  let state = loupeReducer(initialState, { annotationId: 'a', decision: 'accepted', type: ActionTypes.REVIEW_STARTED });
  assert.deepEqual(state.decided, {});
  state = loupeReducer(state, { annotationId: 'a', decision: 'accepted', type: ActionTypes.REVIEW_DONE });
  assert.deepEqual(state.decided, { a: 'accepted' });
  state = loupeReducer(state, { annotationId: 'b', error: 'no key', type: ActionTypes.REVIEW_FAILED });
  assert.deepEqual(state.decided, { a: 'accepted' });
  assert.equal(state.reviews.b.error, 'no key');
});

test('selecting a region ends the tool; windows keep their own state', () => {
  let state = loupeReducer(initialState, { tool: 'search', type: ActionTypes.SET_TOOL, windowId: 'w1' });
  state = loupeReducer(state, { selection: { canvasId: 'c', xywh: [1, 2, 3, 4] }, type: ActionTypes.SELECT_REGION, windowId: 'w1' });
  assert.equal(windowState(state, 'w1').tool, null);
  assert.deepEqual(windowState(state, 'w1').selection.xywh, [1, 2, 3, 4]);
  assert.equal(windowState(state, 'w2').selection, null);
});
