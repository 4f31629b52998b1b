/**
 * Loupe lens: the visitor's app at /lens/<guide>/.
 *
 * Loads the guide (current.json, then the bundle), starts the rear camera and recognises
 * what it sees, frame after frame, on the device (./recognizer.js: TensorFlow.js on the
 * fastest backend there is, and OpenCV.js). Nothing is shown while nothing known is framed;
 * a recognised artwork gets its outline, its details hotspots, and a button; a tap opens the
 * card. Works offline after the first visit (service worker) and sends anonymous statistics.
 *
 * The recognizer is ./recognizer.js beside this script, loaded when the app starts:
 * ``createRecognizer(bundleBaseUrl, bundleJson)`` -> {recognize(imageOrCanvas) -> decision}
 * (lens/BUNDLE.md, "The decision").
 */

import { FRAME_MAX_SIDE, grabFrame, startCamera } from './camera.js';
import { Card } from './card.js';
import { chooseLanguage, guideOf, languageName, loadGuide, pick, plainText } from './guide.js';
import { keepOffline } from './offline.js';
import { Overlay } from './overlay.js';
import { Stats } from './stats.js';
import { Tracker } from './tracker.js';
import { say } from './ui.js';

const RECOGNIZER = './recognizer.js';
const MIN_FRAME_MS = 60;
// The recognizer's second look (dim, blurred, small works) costs several frames' time: while it
// finds nothing, at most once a second and at most a quarter of the time (a slow phone waits
// longer between them: the first look keeps its pace); on every frame while it keeps finding
// the work (the tracker needs consecutive frames).
const SECOND_LOOK_MS = 1000;
const SECOND_LOOK_SHARE = 0.25;
const LANGUAGE_KEY = 'loupe-lens-language';
const MODE_KEY = 'loupe-lens-mode';
const MODE_NAMES = { retrieval: 'Artworks', classify: 'Classifier', detect: 'Details' };
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

const state = { guide: null, language: 'none', frames: 0, recognizer: null, stats: null, mode: undefined, tracker: null };

function setState(name, message) {
  document.body.dataset.state = name;
  if (message !== undefined) $('status').textContent = message;
}

function title(item) {
  const languages = state.guide.bundle.languages || [];
  return pick(item.title, state.language, languages).map(plainText).join(' ') || item.id;
}

/** The app's own words in ``language`` (the guide's texts come from the bundle). */
function applyWords(language) {
  $('language-label').firstChild.textContent = `${say('language', language)} `;
  $('mode-label').firstChild.textContent = `${say('mode', language)} `;
  $('card-speak').textContent = say('listen', language);
  $('card-close').setAttribute('aria-label', say('close', language));
  $('photo-text').textContent = say('photo', language);
  if (document.body.dataset.state === 'searching') $('status').textContent = say('point', language);
}

function setLanguage(language) {
  state.language = language;
  document.documentElement.lang = language === 'none' ? 'en' : language;
  applyWords(state.language);
  try { localStorage.setItem(LANGUAGE_KEY, language); } catch { /* private mode */ }
  const { bundle } = state.guide;
  $('guide-title').textContent = pick(bundle.label, language, bundle.languages || []).join(' ');
  if (state.card && state.card.isOpen) state.card.open(state.card.item, state.guide, language);
}

function setupLanguages() {
  const languages = state.guide.bundle.languages || [];
  let saved = null;
  try { saved = localStorage.getItem(LANGUAGE_KEY); } catch { saved = null; }
  const select = $('language');
  select.replaceChildren(...languages.map((code) => new Option(languageName(code), code)));
  $('language-label').hidden = languages.length < 2;
  const language = chooseLanguage(languages, navigator.languages || [navigator.language], saved);
  select.value = language;
  select.addEventListener('change', () => setLanguage(select.value));
  setLanguage(language);
}

function openCard(itemId) {
  const item = state.guide.items.get(itemId);
  if (!item) return;
  // The visit through the camera ends here: the visitor reads the card now.
  for (const end of state.tracker.end()) record('recognized', end.item, end.dwellMs, state.mode);
  state.card.open(item, state.guide, state.language);
}

function showDecision(shown, frame) {
  const chip = $('chip');
  state.overlay.draw(shown, frame.width, frame.height, state.guide.items, title);
  if (!shown) {
    chip.hidden = true;
    delete chip.dataset.item;
    setState('searching', say('point', state.language));
    return;
  }
  const itemId = shown.detail && state.guide.items.has(shown.detail) ? shown.detail : shown.artwork;
  const item = state.guide.items.get(itemId);
  if (!item) return;
  const parent = item.kind === 'detail' ? state.guide.items.get(item.parent) : null;
  const name = Object.assign(document.createElement('span'), { textContent: title(item) });
  const context = parent ? [Object.assign(document.createElement('small'), { textContent: title(parent) })] : [];
  chip.replaceChildren(name, ...context);
  chip.dataset.item = item.id;
  chip.hidden = false;
  setState('recognized');
}

function record(type, item, dwellMs, mode) {
  if (!state.stats) return;
  state.stats.record({ type, item, mode, language: state.language, dwell_ms: dwellMs });
}

/** A decision with its artwork named even when a recognizer gave only the item (a detail). */
function normalised(decision) {
  if (!decision || decision.artwork || !decision.item) return decision;
  const item = state.guide.items.get(decision.item);
  if (!item) return decision;
  return item.kind === 'detail'
    ? { ...decision, artwork: item.parent, detail: decision.detail || item.id }
    : { ...decision, artwork: item.id };
}

async function recognitionLoop(video) {
  const frame = document.createElement('canvas');
  const { tracker } = state;
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) return;
    for (const end of tracker.end()) record('recognized', end.item, end.dwellMs, state.mode);
    showDecision(null, frame);
    state.stats.beacon(); // the phone is locked or the page left: send what is queued
  });
  let failures = 0;
  let nextSecondLook = 0;
  let secondLookFound = false;
  for (;;) {
    if (document.hidden || state.card.isOpen || !video.videoWidth) {
      await sleep(250);
      continue;
    }
    const started = performance.now();
    const { recognizer } = state;
    let decision = null;
    try {
      const secondLook = secondLookFound || started >= nextSecondLook;
      decision = await recognizer.recognize(grabFrame(video, frame), { secondLook });
      if (decision && decision.fallback) {
        const cost = performance.now() - started;
        nextSecondLook = started + Math.max(SECOND_LOOK_MS, cost / SECOND_LOOK_SHARE);
        secondLookFound = Boolean(decision.artwork);
      } else if (decision && decision.artwork) secondLookFound = false;
      failures = 0;
      // A stale answer: the mode changed, or a card opened, meanwhile.
      if (recognizer !== state.recognizer || state.card.isOpen) continue;
    } catch (error) {
      failures += 1;
      if (failures === 1) console.warn('lens: recognition failed:', error);
      await sleep(Math.min(2000, 200 * failures));
    }
    state.frames += 1;
    document.documentElement.dataset.frames = String(state.frames);
    state.mode = (decision && decision.mode) || state.mode;
    const { shown, ended } = tracker.update(normalised(decision));
    for (const end of ended) record('recognized', end.item, end.dwellMs, state.mode);
    showDecision(shown, frame);
    const spent = performance.now() - started;
    await new Promise((resolve) => { requestAnimationFrame(resolve); });
    if (spent < MIN_FRAME_MS) await sleep(MIN_FRAME_MS - spent);
  }
}

/** The recognizer in the saved or first mode of the bundle; a switch when it has several. */
async function setupModes() {
  const { createRecognizer } = await import(RECOGNIZER);
  const modes = Object.keys(state.guide.bundle.modes || {});
  let saved = null;
  try { saved = localStorage.getItem(MODE_KEY); } catch { saved = null; }
  const make = (mode) => createRecognizer(state.guide.baseUrl, state.guide.bundle, mode ? { mode } : undefined);
  const first = modes.includes(saved) ? saved : (modes.includes('retrieval') ? 'retrieval' : modes[0]);
  const recognizer = await make(first);
  if (modes.length > 1) {
    const select = $('mode');
    select.replaceChildren(...modes.map((m) => new Option(MODE_NAMES[m] || m, m)));
    select.value = first;
    $('mode-label').hidden = false;
    select.addEventListener('change', async () => {
      const mode = select.value;
      try {
        const next = await make(mode);
        state.tracker.end().forEach((end) => record('recognized', end.item, end.dwellMs, state.mode));
        state.overlay.draw(null, 1, 1, state.guide.items, title);
        $('chip').hidden = true;
        setState('searching', say('point', state.language));
        state.recognizer = next;
        state.mode = mode;
        document.body.dataset.mode = mode;
        try { localStorage.setItem(MODE_KEY, mode); } catch { /* private mode */ }
      } catch (error) {
        console.warn(`lens: mode ${mode}:`, error);
        select.value = state.mode || first;
      }
    });
  }
  state.mode = first;
  document.body.dataset.mode = first || '';
  return recognizer;
}

/** Without a live camera: the visitor takes a photo, the lens opens the card of what is in it. */
function offerPhotos() {
  const input = $('photo-input');
  $('photo-text').textContent = say('photo', state.language);
  $('photo').hidden = false;
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, FRAME_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const frame = document.createElement('canvas');
    frame.width = Math.max(1, Math.round(bitmap.width * scale));
    frame.height = Math.max(1, Math.round(bitmap.height * scale));
    frame.getContext('2d').drawImage(bitmap, 0, 0, frame.width, frame.height);
    bitmap.close();
    let decision = null;
    try {
      decision = await state.recognizer.recognize(frame);
    } catch (error) {
      console.warn('lens: recognition failed:', error);
    }
    const item = decision && (decision.item || decision.artwork);
    if (item && state.guide.items.has(item)) {
      state.mode = decision.mode || state.mode;
      record('recognized', item, 0, state.mode);
      $('status').textContent = '';
      openCard(item);
    } else {
      $('status').textContent = say('nothing', state.language);
    }
  });
}

async function start() {
  const pageUrl = new URL('./', window.location.href).href;
  const guideId = guideOf(window.location.href);
  state.language = (navigator.language || 'en').split('-')[0]; // until the guide says which it has
  setState('loading', say('guide', state.language));
  if (!guideId) { setState('error', 'This is not a lens guide address.'); return; }
  try {
    state.guide = await loadGuide(pageUrl);
  } catch (error) {
    setState('error', say('noGuide', state.language, error.message));
    return;
  }
  setupLanguages();
  state.stats = new Stats(guideId);
  state.tracker = new Tracker();
  state.card = new Card($('card'), {
    onClose: (item, dwellMs) => {
      record('card', item.id, dwellMs);
      state.stats.flush(); // a card read is a good moment to send
    },
  });
  state.overlay = new Overlay($('overlay'), openCard);
  $('chip').addEventListener('click', () => openCard($('chip').dataset.item));
  keepOffline(state.guide, pageUrl).then((answer) => {
    document.body.dataset.offline = answer.failed && answer.failed.length ? 'partial' : 'ready';
    if (answer.failed && answer.failed.length) console.warn('lens: not kept offline:', answer.failed);
  }).catch((error) => { document.body.dataset.offline = 'unavailable'; console.warn('lens: offline:', error); });

  setState('loading', say('models', state.language));
  try {
    state.recognizer = await setupModes();
  } catch (error) {
    setState('error', say('noRecognition', state.language, error.message));
    console.warn('lens: recognizer:', error);
    return;
  }
  const video = $('camera');
  setState('loading', say('camera', state.language));
  try {
    await startCamera(video);
  } catch (error) {
    // No live camera (refused, none, or a page over plain http): photos still work.
    setState('photo', say('noCamera', state.language, error.message));
    offerPhotos();
    return;
  }
  setState('searching', say('point', state.language));
  recognitionLoop(video);
}

start();
