import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoupeApi, LoupeError, searchBody } from '../src/api.js';

function fakeFetch(status, body, calls) {
  return async (url, init) => {
    calls.push({ init, url });
    return { ok: status < 400, status, statusText: 'X', text: async () => (typeof body === 'string' ? body : JSON.stringify(body)) };
  };
}

test('a region search sends a reference and the filters, never a URL to fetch', async () => {
  const calls = [];
  const api = new LoupeApi({ endpoint: 'http://loupe.test/', fetch: fakeFetch(200, { results: [] }, calls) });
  await api.searchRegion({ canvas: 'c', manifest: 'm', xywh: [1.2, 2, 3, 4] }, { kind: 'region', limit: 5, onePerCanvas: true });
  assert.equal(calls[0].url, 'http://loupe.test/api/search/image');
  assert.deepEqual(JSON.parse(calls[0].init.body), {
    filters: { kind: ['region'] }, limit: 5, one_per_canvas: true, reference: { canvas: 'c', manifest: 'm', xywh: '1,2,3,4' },
  });
  assert.deepEqual(searchBody({}), { limit: 24, one_per_canvas: false });
});

test('the service\'s error message is what the user reads', async () => {
  const api = new LoupeApi({ endpoint: 'http://loupe.test', fetch: fakeFetch(401, { error: { code: 'missing_api_key', message: 'this endpoint needs an API key' } }, []) });
  await assert.rejects(api.review(3, 'accepted', 'k'), (e) => e instanceof LoupeError && e.status === 401 && e.message === 'this endpoint needs an API key');
  assert.throws(() => api.review(3, 'accepted', null), /curator key/);
  const down = new LoupeApi({ endpoint: 'http://loupe.test', fetch: async () => { throw new TypeError('Failed to fetch'); } });
  await assert.rejects(down.searchText('x'), /did not answer \(Failed to fetch\)/);
});

test('a review sends the key as a header and a correction in the body', async () => {
  const calls = [];
  const api = new LoupeApi({ endpoint: 'http://loupe.test', fetch: fakeFetch(200, { id: 3 }, calls) });
  await api.review(3, 'accepted', 'secret', { label: 'lily', xywh: [1.4, 2, 3, 4] });
  assert.equal(calls[0].url, 'http://loupe.test/api/machine-annotations/3/review');
  assert.equal(calls[0].init.headers['X-API-Key'], 'secret');
  assert.deepEqual(JSON.parse(calls[0].init.body), { decision: 'accepted', label: 'lily', xywh: [1, 2, 3, 4] });
});
