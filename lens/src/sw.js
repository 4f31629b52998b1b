/**
 * The lens's service worker (/lens/sw.js, scope /lens/): the app offline after the first visit.
 *
 * - the app's files (/lens/_app/): cached at install, per build (BUILD changes with them);
 * - a bundle version's files (/lens/<guide>/v<N>/...): never change, so cache first; the app
 *   asks for the whole current bundle to be kept ('keep-guide'), older versions are dropped;
 * - the guide's page and current.json: network first (updates arrive), the cache offline.
 */

/* global BUILD, APP_FILES */
const APP_CACHE = `loupe-lens-app-${BUILD}`;
const GUIDE_CACHE = 'loupe-lens-guides';
const SCOPE = new URL(self.registration.scope).pathname; // "/lens/"
const VERSIONED = /^([a-z0-9][a-z0-9-]{0,62})\/v(\d+)\//;
const NETWORK_FIRST = /^[a-z0-9][a-z0-9-]{0,62}\/(current\.json)?$/;
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  // The statistics (POST /api/lens/<guide>/events) go straight to the network, without this
  // worker: Chromium drops a beacon routed through it now and then as its page goes.
  if (event.addRoutes) {
    event.addRoutes({ condition: { urlPattern: new URLPattern({ pathname: '/api/*' }) }, source: 'network' })
      .catch((error) => console.warn('lens: no static route for the statistics:', error));
  }
  event.waitUntil((async () => {
    const cache = await caches.open(APP_CACHE);
    // One by one: a file missing from this build (no recognizer yet) must not stop the rest.
    await Promise.all(APP_FILES.map((file) => cache.add(`${SCOPE}_app/${file}`).catch(() => null)));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('loupe-lens-app-') && name !== APP_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  const rest = url.pathname.slice(SCOPE.length);
  if (rest.startsWith('_app/')) event.respondWith(cacheFirst(APP_CACHE, request));
  else if (VERSIONED.test(rest)) event.respondWith(cacheFirst(GUIDE_CACHE, request));
  else if (NETWORK_FIRST.test(rest)) event.respondWith(networkFirst(GUIDE_CACHE, request));
});

async function cacheFirst(name, request) {
  const cache = await caches.open(name);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.status === 200) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(name, request) {
  const cache = await caches.open(name);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), NETWORK_TIMEOUT_MS)),
    ]);
    if (response.ok) await cache.put(stripped(request.url), response.clone());
    if (response.status >= 500) return (await cache.match(stripped(request.url))) || response; // a server in trouble
    return response;
  } catch (error) {
    const hit = await cache.match(stripped(request.url));
    if (hit) return hit;
    throw error;
  }
}

function stripped(href) {
  const url = new URL(href);
  url.search = '';
  url.hash = '';
  return url.href;
}

self.addEventListener('message', (event) => {
  const message = event.data || {};
  if (message.type !== 'keep-guide') return;
  const reply = (data) => (event.ports[0] ? event.ports[0].postMessage(data) : null);
  event.waitUntil(keepGuide(message).then(reply, (error) => reply({ cached: 0, failed: [String(error)] })));
});

/** Keep the guide's page, current.json and bundle files; drop the guide's other versions. */
async function keepGuide({ guide, version, page, files }) {
  const cache = await caches.open(GUIDE_CACHE);
  const failed = [];
  let cached = 0;
  const keep = async (url, refresh) => {
    if (!refresh && await cache.match(url)) { cached += 1; return null; }
    try {
      const response = await fetch(url, { cache: 'no-cache' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await cache.put(url, response.clone());
      cached += 1;
      return response;
    } catch (error) {
      failed.push(`${url}: ${error.message}`);
      return null;
    }
  };
  await keep(page, true);
  await keep(new URL('current.json', page).href, true);
  const queue = [...files];
  while (queue.length) {
    const batch = queue.splice(0, 6);
    await Promise.all(batch.map(async (url) => {
      const response = await keep(url, false);
      const model = url.endsWith('/model.json') ? (response || await cache.match(url)) : null;
      if (!model) return;
      // A TensorFlow.js graph model: its weight files, and the loupe.json beside it when present.
      const json = await model.clone().json().catch(() => ({}));
      for (const group of json.weightsManifest || []) {
        for (const path of group.paths || []) queue.push(new URL(path, url).href);
      }
      const extra = new URL('loupe.json', url).href;
      if (!(await cache.match(extra))) {
        const found = await fetch(extra).catch(() => null);
        if (found && found.ok) { await cache.put(extra, found); cached += 1; }
      }
    }));
  }
  const prefix = `${self.location.origin}${SCOPE}${guide}/v`;
  for (const request of await cache.keys()) {
    if (request.url.startsWith(prefix) && !request.url.startsWith(`${prefix}${version}/`)) await cache.delete(request);
  }
  return { cached, failed };
}
