/**
 * Anonymous statistics, sent in batches to POST /api/lens/<guide>/events (search_service).
 *
 * Each event: what was recognised or opened, the mode, the language, how long, and when (with
 * the phone's UTC offset). The session id is random, drawn on the phone and drawn anew every
 * day; nothing else about the phone is sent. Events wait in localStorage while offline and
 * go when the phone is back online; a batch the server refuses (400, unknown guide) is dropped.
 *
 * Delivery is at least once, storage exactly once: a batch gets a random id when it is first
 * sent, kept in the queue with its entries, so that the same entries always go again together
 * under the same id; the server stores each (guide, batch id) once and answers a batch sent
 * again as a duplicate. Entries leave the queue only on an answer the page sees (2xx, or a 4xx
 * refusal other than 429). When the page is hidden, sendBeacon hands the batches to the browser,
 * which cannot show the answer (a 429, a 5xx): the entries stay, marked as beaconed, and the next
 * flush (the next visit, the next interval, back online) sends them again by fetch.
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
    this.beaconed = new Set(); // ids of the batches this page handed to sendBeacon
    this.timer = setInterval(() => this.flush(), intervalMs);
    window.addEventListener('online', () => this.flush());
    window.addEventListener('pagehide', () => this.beacon());
    window.addEventListener('pageshow', (event) => { if (event.persisted) this.flush(); }); // back from the cache
    this.flush(); // what an earlier visit left (unsent, or beaconed with no answer seen)
  }

  /** Batches of the queue's entries not in flight: [{batch, session, events, ids}], one session
   * each; entries sent before keep their batch (its id), the others make new ones (batch null). */
  batches(queue) {
    const out = [];
    const sent = new Map();
    for (const entry of queue.filter((e) => !this.inFlight.has(e.id))) {
      if (entry.batch) {
        if (!sent.has(entry.batch)) {
          sent.set(entry.batch, { batch: entry.batch, session: entry.session, events: [], ids: [] });
          out.push(sent.get(entry.batch));
        }
        sent.get(entry.batch).events.push(entry.event);
        sent.get(entry.batch).ids.push(entry.id);
        continue;
      }
      const last = out[out.length - 1];
      if (last && !last.batch && last.session === entry.session && last.events.length < BATCH) {
        last.events.push(entry.event);
        last.ids.push(entry.id);
      } else out.push({ batch: null, session: entry.session, events: [entry.event], ids: [entry.id] });
    }
    return out;
  }

  /** The id of ``batch``: drawn and kept with its entries in the queue the first time it is
   * sent (``beaconed``: marked as handed to sendBeacon). */
  claim(batch, { beaconed = false } = {}) {
    if (batch.batch && !beaconed) return batch.batch;
    const id = batch.batch || randomId();
    const ids = new Set(batch.ids);
    this.save(this.queue().map((e) => (ids.has(e.id) ? { ...e, batch: id, ...(beaconed ? { beaconed } : {}) } : e)));
    batch.batch = id;
    return id;
  }

  /** The body of ``batch`` as sent. */
  static body(batch) {
    return JSON.stringify({ session: batch.session, batch: batch.batch, events: batch.events });
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

  /** The page is going away: hand every batch to the browser (navigator.sendBeacon). The
   * answer is out of sight, so the entries stay, beaconed, until a fetch sends them again. */
  beacon() {
    if (!navigator.sendBeacon || navigator.onLine === false) return;
    for (const batch of this.batches(this.queue())) {
      if (batch.batch && this.beaconed.has(batch.batch)) continue; // once per page: a fetch says how it went
      this.claim(batch);
      const body = new Blob([Stats.body(batch)], { type: 'application/json' });
      if (!navigator.sendBeacon(this.endpoint, body)) break;
      this.claim(batch, { beaconed: true });
      this.beaconed.add(batch.batch);
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
      this.claim(batch);
      let response;
      batch.ids.forEach((id) => this.inFlight.add(id));
      try {
        response = await fetch(this.endpoint, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, keepalive: true,
          body: Stats.body(batch),
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
      this.forget(batch.ids); // stored (now or before: a duplicate), or refused for good: dropped
    }
  }
}
