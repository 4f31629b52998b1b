/**
 * A guide's bundle (lens/BUNDLE.md): where it is, what it holds, and its texts in a language.
 */

export const FORMAT = 'loupe-lens-bundle/1';
const GUIDE_PATH = /\/lens\/([a-z0-9][a-z0-9-]{0,62})\/(?:qr|stats)?$/;

/** The guide id of a page /lens/<guide>/ (or its /qr, /stats), or null. */
export function guideOf(url) {
  const match = new URL(url).pathname.match(GUIDE_PATH);
  return match ? match[1] : null;
}

async function fetchJson(url, options) {
  const response = await fetch(url, options);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/**
 * Loads current.json then that version's bundle.json; ``guideUrl`` is /lens/<guide>/.
 * Returns {guide, version, baseUrl, bundle, items: Map(id -> item)}.
 */
export async function loadGuide(guideUrl) {
  const current = await fetchJson(new URL('current.json', guideUrl), { cache: 'no-cache' });
  if (!Number.isInteger(current.version)) throw new Error('current.json has no version');
  const baseUrl = new URL(`v${current.version}/`, guideUrl).href;
  const bundle = await fetchJson(new URL('bundle.json', baseUrl));
  if (bundle.format !== FORMAT) throw new Error(`bundle.json: format ${bundle.format}, expected ${FORMAT}`);
  const items = new Map((bundle.items || []).map((item) => [item.id, item]));
  return { guide: bundle.guide, version: current.version, baseUrl, bundle, items };
}

/** Every file of the bundle the app and the recognizer read (paths inside the version folder). */
export function bundleFiles(bundle) {
  const files = new Set(['bundle.json']);
  for (const item of bundle.items || []) if (item.image) files.add(item.image);
  for (const mode of Object.values(bundle.modes || {})) {
    for (const key of ['model', 'descriptors']) if (typeof mode[key] === 'string') files.add(mode[key]);
  }
  const verification = bundle.verification || {};
  if (typeof verification.features === 'string') files.add(verification.features);
  return [...files];
}

/** The language to start with: the saved one, else the phone's first that the guide has. */
export function chooseLanguage(languages, preferred = navigator.languages || [], saved = null) {
  if (!languages.length) return 'none';
  if (saved && languages.includes(saved)) return saved;
  for (const wanted of preferred) {
    const lower = wanted.toLowerCase();
    const hit = languages.find((l) => l.toLowerCase() === lower)
      || languages.find((l) => l.toLowerCase().split('-')[0] === lower.split('-')[0]);
    if (hit) return hit;
  }
  return languages[0];
}

/** The strings of a IIIF language map in ``language`` (else its base, 'none', the guide's first, any). */
export function pick(map, language, languages = []) {
  if (!map || typeof map !== 'object') return [];
  const base = (language || '').split('-')[0];
  const keys = Object.keys(map);
  const key = [language, keys.find((k) => k.split('-')[0] === base), 'none', ...languages, keys[0]]
    .find((k) => k && map[k] !== undefined);
  if (key === undefined) return [];
  const value = map[key];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** The value of a per-language map ({"en": "https://..."}) in ``language``, or null. */
export function pickOne(map, language, languages = []) {
  const values = pick(map, language, languages);
  return values.length ? values[0] : null;
}

/** Plain text of a IIIF string that may hold the HTML subset IIIF allows (never inserted as HTML). */
export function plainText(value) {
  if (!/[<&]/.test(value)) return value;
  const doc = new DOMParser().parseFromString(`<body>${value}</body>`, 'text/html');
  for (const br of doc.querySelectorAll('br')) br.replaceWith('\n');
  return doc.body.textContent || '';
}

/** The language's name in itself ("Italiano"), or its code. */
export function languageName(code) {
  if (code === 'none') return '—';
  try {
    const name = new Intl.DisplayNames([code], { type: 'language' }).of(code);
    return name ? name[0].toLocaleUpperCase(code) + name.slice(1) : code;
  } catch {
    return code;
  }
}
