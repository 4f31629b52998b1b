/**
 * Loupe's HTTP API as the plugin uses it. Every failure becomes a LoupeError whose message
 * can be shown to the user as it is: the service's own explanation (its errors are
 * ``{"error": {"code", "message", "field"?}}``), or what went wrong on the way.
 *
 *   const api = new LoupeApi({ endpoint: 'https://loupe.example.org' });
 *   await api.searchRegion({ manifest, canvas, xywh: [x, y, w, h] }, { limit: 20 });
 */

export class LoupeError extends Error {
  constructor(message, { code = null, field = null, status = null } = {}) {
    super(message);
    this.name = 'LoupeError';
    this.code = code;
    this.field = field;
    this.status = status;
  }
}

const JSON_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json' };

/** The search options the panel offers, as the API's JSON body fields. */
export function searchBody({ kind = 'all', limit = 24, onePerCanvas = false } = {}) {
  const body = { limit, one_per_canvas: onePerCanvas };
  if (kind && kind !== 'all') body.filters = { kind: [kind] };
  return body;
}

function searchParams(options) {
  const body = searchBody(options);
  const params = new URLSearchParams({ limit: String(body.limit), one_per_canvas: String(body.one_per_canvas) });
  if (body.filters) params.set('kind', body.filters.kind.join(','));
  return params;
}

export class LoupeApi {
  /** ``endpoint``: the service's base URL (no trailing slash needed); ``fetch`` for tests. */
  constructor({ endpoint, fetch: fetchFunction = null }) {
    if (!endpoint) throw new LoupeError('the plugin needs the address of a Loupe service (config loupe.endpoint)');
    this.endpoint = String(endpoint).replace(/\/+$/, '');
    this.fetch = fetchFunction || ((...args) => globalThis.fetch(...args));
  }

  url(path) {
    return `${this.endpoint}${path}`;
  }

  async request(path, init = {}) {
    let response;
    try {
      response = await this.fetch(this.url(path), init);
    } catch (e) {
      throw new LoupeError(`Loupe at ${this.endpoint} did not answer (${e.message}); check the address and your connection`);
    }
    let body = null;
    const text = await response.text();
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = body && body.error;
      const message = error && error.message
        ? error.message
        : `Loupe answered ${response.status} ${response.statusText || ''}`.trim();
      throw new LoupeError(message, { code: error && error.code, field: error && error.field, status: response.status });
    }
    if (body === null) throw new LoupeError(`Loupe answered ${path} with something that is not JSON`);
    return body;
  }

  post(path, payload, headers = {}) {
    return this.request(path, { body: JSON.stringify(payload), headers: { ...JSON_HEADERS, ...headers }, method: 'POST' });
  }

  /** Similar regions across the collection to a region of a canvas (canvas units). */
  searchRegion(reference, options = {}) {
    return this.post('/api/search/image', { reference: referenceJson(reference), ...searchBody(options) });
  }

  /** A region changed by a sentence ("but at night"); ``textWeight`` 0..1. */
  searchComposed(reference, text, textWeight = 0.5, options = {}) {
    return this.post('/api/search/composed', {
      reference: referenceJson(reference), text, text_weight: textWeight, ...searchBody(options),
    });
  }

  /** Search by words. */
  searchText(q, options = {}) {
    const params = searchParams(options);
    params.set('q', q);
    return this.request(`/api/search?${params}`, { headers: { Accept: 'application/json' } });
  }

  /** Loupe's AnnotationPage of machine annotations for a canvas (found by its URI). */
  annotationPage(canvasId) {
    return this.request(`/iiif/annotations?uri=${encodeURIComponent(canvasId)}`, {
      headers: { Accept: 'application/ld+json, application/json' },
    });
  }

  /**
   * A curator's decision on a machine annotation (needs an API key): ``decision`` "accepted"
   * or "rejected"; ``correction`` ({label?, xywh?}) is sent with an acceptance when given.
   */
  review(regionId, decision, apiKey, correction = null) {
    if (!apiKey) throw new LoupeError('reviewing needs a curator key: enter your API key first');
    const body = { decision };
    if (correction && correction.label) body.label = correction.label;
    if (correction && correction.xywh) body.xywh = correction.xywh.map((v) => Math.round(v));
    return this.post(`/api/machine-annotations/${encodeURIComponent(regionId)}/review`, body, { 'X-API-Key': apiKey });
  }
}

function referenceJson({ canvas, manifest, xywh }) {
  const reference = { canvas };
  if (manifest) reference.manifest = manifest;
  if (xywh) reference.xywh = xywh.map((v) => Math.round(v)).join(',');
  return reference;
}
