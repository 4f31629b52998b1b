/**
 * Offline after the first visit: registers the service worker (/lens/sw.js, scope /lens/)
 * and asks it to keep this guide's page, current.json and every file of the current bundle
 * (models included). Resolves with the worker's answer {cached, failed}.
 */

import { bundleFiles } from './guide.js';

export async function keepOffline(guideState, pageUrl) {
  if (!('serviceWorker' in navigator)) return { cached: 0, failed: [], unsupported: true };
  await navigator.serviceWorker.register(new URL('../sw.js', pageUrl), { scope: new URL('../', pageUrl).pathname });
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  const channel = new MessageChannel();
  const answer = new Promise((resolve) => { channel.port1.onmessage = (event) => resolve(event.data); });
  worker.postMessage({
    type: 'keep-guide',
    guide: guideState.guide,
    version: guideState.version,
    page: new URL('./', pageUrl).href,
    files: bundleFiles(guideState.bundle).map((path) => new URL(path, guideState.baseUrl).href),
  }, [channel.port2]);
  return answer;
}
