// Stats' delivery without a browser (node --test): a batch keeps its random id from the first
// send on, beacon and fetch alike; only an answer the page sees removes its entries.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import { Stats } from '../src/stats.js';

class Memory {
  constructor() { this.items = new Map(); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
}

const sent = []; // [{how, body}]
let answers = []; // statuses the next fetches get
const made = [];
globalThis.window = { addEventListener() {} };
globalThis.document = { baseURI: 'https://m.example/lens/g/' };
Object.defineProperty(globalThis, 'navigator', {
  configurable: true,
  value: { onLine: true, sendBeacon: (url, blob) => { sent.push({ how: 'beacon', blob }); return true; } },
});
globalThis.fetch = async (url, init) => {
  sent.push({ how: 'fetch', body: JSON.parse(init.body) });
  const status = answers.shift() ?? 202;
  return new Response(status === 400 ? '{"error": {"message": "bad"}}' : '{}',
    { status, headers: status === 429 ? { 'Retry-After': '0' } : {} });
};

async function stats() {
  const s = new Stats('g', { storage: new Memory(), intervalMs: 1e9 });
  made.push(s);
  await s.flush(); // the constructor's, of what an earlier visit left: nothing here
  return s;
}

async function beaconBody(entry) { return JSON.parse(await entry.blob.text()); }

afterEach(() => { made.splice(0).forEach((s) => clearInterval(s.timer)); sent.length = 0; answers = []; });

test('a beaconed batch stays queued under its id until a fetch of the same id is answered', async () => {
  const s = await stats();
  s.record({ type: 'card', item: 'venus', language: 'en', dwell_ms: 10 });
  s.record({ type: 'card', item: 'primavera', language: 'en', dwell_ms: 20 });
  s.beacon();
  s.beacon(); // visibilitychange, then pagehide: one beacon
  assert.equal(sent.length, 1);
  const beacon = await beaconBody(sent[0]);
  assert.match(beacon.batch, /^[0-9a-f]{32}$/);
  assert.deepEqual(beacon.events.map((e) => e.item), ['venus', 'primavera']);
  assert.ok(s.queue().every((e) => e.batch === beacon.batch && e.beaconed));

  s.record({ type: 'card', item: 'venus', language: 'en', dwell_ms: 30 }); // after: a batch of its own
  answers = [429];
  await s.flush();
  assert.equal(s.queue().length, 3); // a 429 removes nothing
  s.notBefore = 0;
  answers = [200, 202]; // the duplicate, then the new one
  await s.flush();
  const fetched = sent.filter((x) => x.how === 'fetch').map((x) => x.body);
  assert.deepEqual(fetched.map((b) => b.batch).slice(0, 2), [beacon.batch, beacon.batch]);
  assert.deepEqual(fetched[1].events, beacon.events);
  assert.notEqual(fetched[2].batch, beacon.batch);
  assert.deepEqual(fetched[2].events.map((e) => e.dwell_ms), [30]);
  assert.deepEqual(s.queue(), []);
});

test('a refusal the page sees drops the batch; a failed fetch keeps its id for the next try', async () => {
  const s = await stats();
  s.record({ type: 'card', item: 'venus', language: 'en' });
  const realFetch = globalThis.fetch;
  globalThis.fetch = async () => { throw new TypeError('offline'); };
  await s.flush();
  globalThis.fetch = realFetch;
  const [kept] = s.queue();
  assert.match(kept.batch, /^[0-9a-f]{32}$/);
  const warn = console.warn;
  const warned = [];
  console.warn = (...args) => warned.push(args.join(' '));
  answers = [400];
  try { await s.flush(); } finally { console.warn = warn; }
  assert.equal(sent.at(-1).body.batch, kept.batch);
  assert.deepEqual(s.queue(), []);
  assert.deepEqual(warned, ['lens statistics refused: bad']);
});
