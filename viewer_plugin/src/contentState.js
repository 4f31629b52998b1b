/**
 * IIIF Content State API 1.0: the links that reopen a viewer on a region of a canvas.
 *
 * content-state-encoding (spec section 6.1): encodeURIComponent of the JSON text, then
 * base64url of those ASCII bytes without "=" padding. Loupe's Python writer
 * (iiif/writers/content_state.py) does the same byte for byte, so links made here and links
 * in the service's search results decode alike. Pure functions, no DOM, no Mirador.
 */

export const CONTENT_STATE_PARAM = 'iiif-content';
const PRESENTATION_3_CONTEXT = 'http://iiif.io/api/presentation/3/context.json';
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** base64 of an ASCII string, in the browser (btoa) and in Node (Buffer). */
function toBase64(ascii) {
  if (typeof btoa === 'function') return btoa(ascii);
  return Buffer.from(ascii, 'binary').toString('base64');
}

/** The ASCII string of base64 text; throws on invalid input. */
function fromBase64(b64) {
  if (typeof atob === 'function') return atob(b64);
  return Buffer.from(b64, 'base64').toString('binary');
}

/** Content-state-encode a content state (an object, or its JSON text). */
export function encodeContentState(state) {
  const text = typeof state === 'string' ? state : JSON.stringify(state);
  return toBase64(encodeURIComponent(text)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decode a content state: the object it carries, else its text. A plain URI is returned as
 * given (plain URIs are never encoded). Throws an Error saying why when it is not encoded.
 */
export function decodeContentState(encoded) {
  const value = String(encoded || '').trim();
  if (value.includes('://')) return value;
  if (!value || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw new Error('this is not a IIIF content state (expected unpadded base64url text)');
  }
  const padded = value.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (value.length % 4)) % 4);
  let text;
  try {
    text = decodeURIComponent(fromBase64(padded));
  } catch (e) {
    throw new Error(`this is not a IIIF content state (${e.message})`);
  }
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : text;
  } catch {
    return text;
  }
}

/** "x,y,w,h" of integers (content states and Mirador both want integers). */
export function xywhText(xywh) {
  return xywh.map((v) => Math.round(v)).join(',');
}

/**
 * A content-state Annotation pointing at ``xywh`` (canvas units; null: the whole canvas) of
 * a canvas within its manifest: the same JSON as Loupe's content_state_for_region.
 */
export function regionContentState(manifestId, canvasId, xywh = null) {
  const canvas = String(canvasId).split('#')[0];
  return {
    '@context': PRESENTATION_3_CONTEXT,
    type: 'Annotation',
    motivation: ['contentState'],
    target: {
      id: xywh ? `${canvas}#xywh=${xywhText(xywh)}` : canvas,
      type: 'Canvas',
      partOf: [{ id: manifestId, type: 'Manifest' }],
    },
  };
}

/** ``viewerUrl`` with ``?iiif-content=`` carrying ``state`` (other parameters kept). */
export function contentStateLink(viewerUrl, state) {
  const url = new URL(viewerUrl);
  url.searchParams.set(CONTENT_STATE_PARAM, encodeContentState(state));
  return url.toString();
}

function parseXywh(fragment) {
  const match = /xywh=(?:pixel:)?\s*([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)/.exec(fragment || '');
  return match ? match.slice(1, 5).map(Number) : null;
}

function firstId(value) {
  const first = Array.isArray(value) ? value[0] : value;
  if (!first) return null;
  return typeof first === 'string' ? first : first.id || first['@id'] || null;
}

/**
 * Where a content state points: ``{manifestId, canvasId, xywh}`` (canvasId and xywh may be
 * null: a whole manifest, a whole canvas). Reads the forms the spec allows: a target that is
 * a canvas URI with a fragment, a Canvas with ``partOf``, a SpecificResource with a
 * FragmentSelector, or a Manifest. Throws when it names neither a canvas nor a manifest.
 */
export function contentStateTarget(state) {
  const decoded = typeof state === 'string' ? decodeContentState(state) : state;
  if (typeof decoded === 'string') {
    return { canvasId: null, manifestId: decoded, xywh: null };
  }
  const target = Array.isArray(decoded.target) ? decoded.target[0] : (decoded.target || decoded);
  if (typeof target === 'string') {
    throw new Error('this content state names a canvas without its manifest');
  }
  const type = target.type || target['@type'];
  if (type === 'Manifest') {
    return { canvasId: null, manifestId: target.id || target['@id'], xywh: null };
  }
  let source = target;
  let xywh = null;
  if (type === 'SpecificResource') {
    source = typeof target.source === 'string' ? { id: target.source } : (target.source || {});
    const selectors = [].concat(target.selector || []);
    const fragment = selectors.find((s) => s && (s.type === 'FragmentSelector' || /xywh=/.test(s.value || '')));
    xywh = fragment ? parseXywh(fragment.value) : null;
  }
  const sourceId = source.id || source['@id'] || '';
  const [canvasId, fragment] = sourceId.split('#');
  xywh = xywh || parseXywh(fragment);
  const manifestId = firstId(source.partOf || target.partOf);
  if (!canvasId || !manifestId) {
    throw new Error('this content state does not name a canvas within a manifest');
  }
  return { canvasId, manifestId, xywh };
}
