/**
 * Anonymous statistics, sent in batches to POST /api/lens/<guide>/events (search_service).
 *
 * Each event: what was recognised or opened, the mode, the language, how long, and when (with
 * the phone's UTC offset). The session id is random, drawn on the phone and drawn anew every
 * day; nothing else about the phone is sent. Events wait in localStorage while offline and
 * go when the phone is back online; a batch the server refuses (400, unknown guide) is dropped.
 */

const SESSION_KEY = 'loupe-lens-session';
const MAX_QUEUE = 1000;
const BATCH = 100;

function localDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** ``date`` as ISO 8601 local time with its UTC offset, to the second. */
export function localTime(date = new Date()) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${localDay(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Stats {
  constructor(guide, { endpoint = `../../api/lens/${guide}/events`, storage = window.localStorage,
    intervalMs = 15000, now = () => new Date() } = {}) {
    this.endpoint = new URL(endpoint, document.baseURI).href;
    this.storage = storage;
    this.now = now;
    this.queueKey = `loupe-lens-events:${guide}`;
    this.notBefore = 0;
    this.sending = null;
    this.inFlight = new Set(); // ids of entries a request is carrying
    this.timer = setInterval(() => this.flush(), intervalMs);
    window.addEventListener('online', () => this.flush());
    window.addEventListener('pagehide', () => this.beacon());
  }

  /** Batches of the queue's entries not in flight: [{session, events, ids}], one session each. */
  batches(queue) {
    const out = [];
    for (const entry of queue.filter((e) => !this.inFlight.has(e.id))) {
      const last = out[out.length - 1];
      if (last && last.session === entry.session && last.events.length < BATCH) {
        last.events.push(entry.event);
        last.ids.push(entry.id);
      } else out.push({ session: entry.session, events: [entry.event], ids: [entry.id] });
    }
    return out;
  }

  /** Today's session id (a new random one each day). */
  session() {
    const today = localDay(this.now());
    let saved = null;
    try { saved = JSON.parse(this.storage.getItem(SESSION_KEY) || 'null'); } catch { saved = null; }
    if (saved && saved.day === today && typeof saved.id === 'string') return saved.id;
    const fresh = { day: today, id: randomId() };
    this.storage.setItem(SESSION_KEY, JSON.stringify(fresh));
    return fresh.id;
  }

  queue() {
    try { return JSON.parse(this.storage.getItem(this.queueKey) || '[]'); } catch { return []; }
  }

  save(queue) {
    this.storage.setItem(this.queueKey, JSON.stringify(queue.slice(-MAX_QUEUE)));
  }

  /** Queue an event {type, item, mode?, language, dwell_ms?}. */
  record(event) {
    const entry = { id: randomId(), session: this.session(), event: { ...event, at: localTime(this.now()) } };
    if (entry.event.mode === undefined || entry.event.mode === null) delete entry.event.mode;
    this.save([...this.queue(), entry]);
  }

  /** Drop the entries ``ids`` from the queue (sent, or refused for good). */
  forget(ids) {
    const gone = new Set(ids);
    this.save(this.queue().filter((e) => !gone.has(e.id)));
  }

  /** The page is going away: hand every batch to the browser (navigator.sendBeacon). */
  beacon() {
    if (!navigator.sendBeacon || navigator.onLine === false) return;
    for (const { session, events, ids } of this.batches(this.queue())) {
      const body = new Blob([JSON.stringify({ session, events })], { type: 'application/json' });
      if (!navigator.sendBeacon(this.endpoint, body)) break;
      this.forget(ids);
    }
  }

  /** Send what is queued, a batch at a time; resolves when done or stopped. */
  flush() {
    if (this.sending) return this.sending;
    this.sending = this.send().finally(() => { this.sending = null; });
    return this.sending;
  }

  async send() {
    for (;;) {
      const queue = this.queue();
      if (!queue.length || Date.now() < this.notBefore || navigator.onLine === false) return;
      const batch = this.batches(queue)[0];
      if (!batch) return;
      let response;
      batch.ids.forEach((id) => this.inFlight.add(id));
      try {
        response = await fetch(this.endpoint, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, keepalive: true,
          body: JSON.stringify({ session: batch.session, events: batch.events }),
        });
      } catch {
        return; // offline: later
      } finally {
        batch.ids.forEach((id) => this.inFlight.delete(id));
      }
      if (response.status === 429 || response.status >= 500) {
        const wait = Number(response.headers.get('Retry-After')) || 30;
        this.notBefore = Date.now() + wait * 1000;
        return;
      }
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        console.warn('lens statistics refused:', (body.error && body.error.message) || response.status);
      }
      this.forget(batch.ids); // sent, or refused for good: dropped
    }
  }
}
