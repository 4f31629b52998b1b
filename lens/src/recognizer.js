// The lens's recognition of a camera frame, for one bundle (lens/BUNDLE.md): the same decision
// as Python's loupe_models/lens/decision.py, step by step, with the same arithmetic
// (loupe_models/lens/frames.py) so that both give the same features and the same answer.
//
//   import { createRecognizer } from './recognizer.js';
//   const recognizer = await createRecognizer('/lens/default/v3/', bundleJson, { tf, cv });
//   const decision = await recognizer.recognize(videoOrCanvasOrImage);
//
// An ES module importing only ./detect.js (the detector's decoding): TensorFlow.js (with
// @tensorflow/tfjs-backend-wasm registered) and OpenCV.js are passed in, or taken from
// globalThis.tf / globalThis.cv.

import { decode as decodeDetections, letterbox, run as runDetector } from './detect.js';

const RANSAC_ITERS = 2000;  // OpenCV's defaults, as loupe_models/lens/orb.py passes them
const RANSAC_CONFIDENCE = 0.995;
const RECORD_BYTES = 40;  // x, y float32 little-endian, 32-byte ORB descriptor

/** OpenCV.js once its runtime is ready (the UMD build may hand out a promise or a module). */
export async function openCvReady(cv) {
  if (cv instanceof Promise) return await cv;
  if (cv && cv.Mat) return cv;
  if (cv && typeof cv.then === 'function') {
    const ready = await new Promise((resolve) => cv.then((m) => resolve(m)));
    return ready.Mat ? ready : cv;
  }
  await new Promise((resolve) => { cv.onRuntimeInitialized = resolve; });
  return cv;
}

/** The backend TensorFlow.js runs on: the first of `names` that starts ('wasm' needs the
 *  WASM backend registered and, when its files are not beside the page, tf.wasm.setWasmPaths). */
export async function useFastestBackend(tf, names = ['webgpu', 'webgl', 'wasm', 'cpu']) {
  for (const name of names) {
    if (!tf.findBackendFactory(name)) continue;
    try {
      if (await tf.setBackend(name)) { await tf.ready(); return name; }
    } catch (e) { /* next */ }
  }
  return tf.getBackend();
}

/** RGBA pixels of an image, canvas, video, ImageBitmap or ImageData, at its own size. */
export function framePixels(source) {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return source;
  if (source && source.data && source.width && source.height) return source;  // ImageData-like
  const width = source.videoWidth || source.naturalWidth || source.width;
  const height = source.videoHeight || source.naturalHeight || source.height;
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

/** The model's input: the centred square, averaged over f x f blocks (f = side // size, when at
 *  least 2), then bilinear with half-pixel centres; RGB 0-255 as float32 (size*size*3). */
export function modelInput(pixels, size) {
  const { data, width: w, height: h } = pixels;
  const side = Math.min(w, h);
  const x0 = Math.floor((w - side) / 2);
  const y0 = Math.floor((h - side) / 2);
  const f = Math.floor(side / size);
  let n = side;
  let square;
  if (f >= 2) {
    n = Math.floor(side / f);
    square = new Float64Array(n * n * 3);
    for (let by = 0; by < n; by++) {
      for (let bx = 0; bx < n; bx++) {
        let r = 0, g = 0, b = 0;
        for (let dy = 0; dy < f; dy++) {
          let p = ((y0 + by * f + dy) * w + x0 + bx * f) * 4;
          for (let dx = 0; dx < f; dx++, p += 4) { r += data[p]; g += data[p + 1]; b += data[p + 2]; }
        }
        const o = (by * n + bx) * 3;
        const k = f * f;
        square[o] = r / k; square[o + 1] = g / k; square[o + 2] = b / k;
      }
    }
  } else {
    square = new Float64Array(n * n * 3);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const p = ((y0 + y) * w + x0 + x) * 4;
        const o = (y * n + x) * 3;
        square[o] = data[p]; square[o + 1] = data[p + 1]; square[o + 2] = data[p + 2];
      }
    }
  }
  // Bilinear, half-pixel centres: rows first, then columns (the order of frames.bilinear).
  const lo = new Int32Array(size), hi = new Int32Array(size), frac = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const c = (i + 0.5) * (n / size) - 0.5;
    const low = Math.floor(c);
    frac[i] = c - low;
    lo[i] = Math.min(Math.max(low, 0), n - 1);
    hi[i] = Math.min(Math.max(low + 1, 0), n - 1);
  }
  const rows = new Float64Array(size * n * 3);
  for (let y = 0; y < size; y++) {
    const a = lo[y] * n * 3, b = hi[y] * n * 3, t = frac[y], o = y * n * 3;
    for (let j = 0; j < n * 3; j++) rows[o + j] = square[a + j] * (1 - t) + square[b + j] * t;
  }
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const a = (y * n + lo[x]) * 3, b = (y * n + hi[x]) * 3, t = frac[x], o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = rows[a + c] * (1 - t) + rows[b + c] * t;
    }
  }
  return out;
}

/** The frame centred on a grey (128) square as large as its long side (offsets floored): the
 *  fallback's look at the whole frame (frames.on_grey). */
export function onGrey(pixels) {
  const { data, width: w, height: h } = pixels;
  const side = Math.max(w, h);
  const out = new Uint8ClampedArray(side * side * 4).fill(128);
  for (let k = 3; k < out.length; k += 4) out[k] = 255;
  const x0 = Math.floor((side - w) / 2), y0 = Math.floor((side - h) / 2);
  for (let y = 0; y < h; y++) out.set(data.subarray(y * w * 4, (y + 1) * w * 4), ((y0 + y) * side + x0) * 4);
  return { data: out, width: side, height: side };
}

function project(h, x, y) {
  const d = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / d, (h[3] * x + h[4] * y + h[5]) / d];
}

function boxCorners(x, y, w, h) {
  return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
}

function convex(quad) {
  if (!quad.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) return false;
  const crosses = [];
  for (let i = 0; i < 4; i++) {
    const a = quad[i], b = quad[(i + 1) % 4], c = quad[(i + 2) % 4];
    crosses.push((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]));
  }
  return crosses.every((v) => v > 0) || crosses.every((v) => v < 0);
}

function inside([px, py], quad) {
  const signs = [];
  for (let i = 0; i < 4; i++) {
    const a = quad[i], b = quad[(i + 1) % 4];
    signs.push((b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0]));
  }
  return signs.every((s) => s >= 0) || signs.every((s) => s <= 0);
}

function emptyDecision(mode) {
  return { item: null, artwork: null, detail: null, score: 0, mode, homography: null, hotspots: [], candidates: [],
    fallback: false };
}

async function fetchBytes(url) {
  const answer = await fetch(url);
  if (!answer.ok) throw new Error(`${url}: ${answer.status} ${answer.statusText}`);
  return await answer.arrayBuffer();
}

/**
 * A recognizer for one bundle. `baseUrl`: the bundle version's folder (ends with '/');
 * `bundle`: its bundle.json. Options: tf, cv (default: globals), mode ('retrieval' or
 * 'classify'; default: retrieval when present).
 * Returns { bundle, mode, recognize(source) -> decision (lens/BUNDLE.md), features(source),
 * dispose() }.
 */
export async function createRecognizer(baseUrl, bundle, options = {}) {
  const tf = options.tf || globalThis.tf;
  if (!tf) throw new Error('createRecognizer: TensorFlow.js is needed (options.tf or a global tf)');
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const modes = bundle.modes || {};
  const mode = options.mode || (modes.retrieval ? 'retrieval' : Object.keys(modes).find((m) => m !== 'detect'));
  // Detection by homography (no detector yet): the retrieval mode's decision, whose verified
  // homography places the details' hotspots.
  const byHomography = mode === 'detect' && modes.detect && modes.detect.method === 'homography';
  // Detection by the bundle's detector: the retrieval decision names the artwork, the
  // detector's boxes its details (loupe_models/lens/decision.py `_detected`).
  const byDetector = mode === 'detect' && modes.detect && modes.detect.method === 'detector';
  const spec = byHomography || byDetector ? modes.retrieval : modes[mode];
  if (!spec || !spec.model) throw new Error(`the bundle has no model for mode ${mode}`);
  const items = bundle.items;
  const indexOf = new Map(items.map((item, i) => [item.id, i]));
  const model = await tf.loadGraphModel(new URL(spec.model, new URL(base, location.href)).href);
  const size = spec.input_size;

  let descriptors = null;
  let cv = null;
  let orb = null;
  const references = new Map();  // artwork index -> { xy: Float32Array, desc: cv.Mat }
  const verification = bundle.verification;
  let detector = null;
  if (byDetector) {
    const url = (path) => new URL(path, new URL(base, location.href)).href;
    const meta = await (await fetch(url(modes.detect.meta || 'detect/loupe.json'))).json();
    if (meta.format !== 'loupe-detector/1') throw new Error(`${modes.detect.model}: not a Loupe detector (${meta.format})`);
    detector = { model: await tf.loadGraphModel(url(modes.detect.model)), meta };
  }
  if (mode === 'retrieval' || byHomography || byDetector) {
    descriptors = new Float32Array(await fetchBytes(new URL(spec.descriptors, new URL(base, location.href)).href));
    cv = await openCvReady(options.cv || globalThis.cv);
    const bytes = new Uint8Array(await fetchBytes(new URL(verification.features, new URL(base, location.href)).href));
    const view = new DataView(bytes.buffer);
    for (const entry of verification.items) {
      const xy = new Float32Array(entry.count * 2);
      const desc = new Uint8Array(entry.count * 32);
      for (let k = 0; k < entry.count; k++) {
        const p = (entry.offset + k) * RECORD_BYTES;
        xy[2 * k] = view.getFloat32(p, true);
        xy[2 * k + 1] = view.getFloat32(p + 4, true);
        desc.set(bytes.subarray(p + 8, p + 40), k * 32);
      }
      references.set(entry.item, { xy, count: entry.count, desc: cv.matFromArray(entry.count, 32, cv.CV_8U, desc) });
    }
    const o = verification.orb;
    orb = new cv.ORB(o.nfeatures, o.scaleFactor, o.nlevels, o.edgeThreshold, 0, 2, cv.ORB_HARRIS_SCORE, 31,
      o.fastThreshold);
  }

  async function embed(pixels) {
    const input = tf.tensor4d(modelInput(pixels, size), [1, size, size, 3], 'float32');
    const output = model.predict(input);
    const values = await output.data();
    input.dispose();
    output.dispose();
    return Float32Array.from(values);
  }

  async function features(source) {
    const pixels = framePixels(source);
    return { pixels, values: await embed(pixels) };
  }

  /** Per item, the smallest cosine distance of descriptor `f` to the item's rows. */
  function itemDistances(f) {
    const dim = spec.dim;
    const best = new Float64Array(items.length).fill(Infinity);
    for (let r = 0; r < spec.rows.length; r++) {
      let dot = 0;
      const o = r * dim;
      for (let j = 0; j < dim; j++) dot += descriptors[o + j] * f[j];
      const d = Math.fround(1 - Math.fround(dot));
      const i = spec.rows[r];
      if (d < best[i]) best[i] = d;
    }
    return best;
  }

  /** The fallback's candidates: the `n` artworks nearest to either look (no distance cut). */
  function fallbackShortlist(centre, whole, n) {
    const nearest = new Map();
    for (let i = 0; i < items.length; i++) {
      const a = items[i].parent ? indexOf.get(items[i].parent) : i;
      if (a === undefined) continue;
      const d = Math.min(centre[i], whole[i]);
      nearest.set(a, Math.min(nearest.has(a) ? nearest.get(a) : Infinity, d));
    }
    return [...nearest.keys()].sort((p, q) => nearest.get(p) - nearest.get(q) || p - q).slice(0, n);
  }

  function shortlist(f) {
    const best = itemDistances(f);
    const keep = [];
    for (let i = 0; i < items.length; i++) if (best[i] <= spec.max_distance[i]) keep.push(i);
    keep.sort((a, b) => best[a] - best[b] || a - b);
    const artworks = [];
    for (const i of keep.slice(0, spec.shortlist)) {
      const a = items[i].parent ? indexOf.get(items[i].parent) : i;
      if (a !== undefined && !artworks.includes(a)) artworks.push(a);
    }
    return { artworks, best };
  }

  /** ORB on the frame's grey (long side frame_max_side); with `contrast` (the bundle's
   *  fallback), median-filtered and CLAHE-equalised first. */
  function frameKeypoints(pixels, contrast = null) {
    const rgba = cv.matFromImageData(pixels);
    let grey = new cv.Mat();
    cv.cvtColor(rgba, grey, cv.COLOR_RGBA2GRAY);
    rgba.delete();
    const { width: w, height: h } = pixels;
    const scale = Math.min(1, verification.frame_max_side / Math.max(w, h));
    if (scale < 1) {
      const small = new cv.Mat();
      cv.resize(grey, small, new cv.Size(Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))), 0, 0,
        cv.INTER_AREA);
      grey.delete();
      grey = small;
    }
    if (contrast && contrast.median > 1) {  // the sensor noise of a dim room, before it is equalised
      const smooth = new cv.Mat();
      cv.medianBlur(grey, smooth, contrast.median);
      grey.delete();
      grey = smooth;
    }
    if (contrast) {
      const clahe = new cv.CLAHE(contrast.clip_limit, new cv.Size(contrast.tiles, contrast.tiles));
      const equalised = new cv.Mat();
      clahe.apply(grey, equalised);
      clahe.delete();
      grey.delete();
      grey = equalised;
    }
    return { ...detect(grey), scale };
  }

  function detect(grey) {
    const keypoints = new cv.KeyPointVector();
    const desc = new cv.Mat();
    const mask = new cv.Mat();
    orb.detectAndCompute(grey, mask, keypoints, desc);
    const xy = new Float32Array(keypoints.size() * 2);
    for (let k = 0; k < keypoints.size(); k++) {
      const pt = keypoints.get(k).pt;
      xy[2 * k] = pt.x;
      xy[2 * k + 1] = pt.y;
    }
    keypoints.delete();
    mask.delete();
    grey.delete();
    return { xy, desc, count: xy.length / 2 };
  }

  function verify(frame, ref) {
    if (!ref || ref.count < 2 || frame.count < 2) return { inliers: 0, homography: null };
    const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
    const pairs = new cv.DMatchVectorVector();
    matcher.knnMatch(frame.desc, ref.desc, pairs, 2);
    const src = [], dst = [];
    for (let q = 0; q < pairs.size(); q++) {
      const two = pairs.get(q);
      if (two.size() >= 2) {
        const m = two.get(0), n = two.get(1);
        if (m.distance < verification.ratio * n.distance) {
          src.push(frame.xy[2 * m.queryIdx], frame.xy[2 * m.queryIdx + 1]);
          dst.push(ref.xy[2 * m.trainIdx], ref.xy[2 * m.trainIdx + 1]);
        }
      }
      two.delete();
    }
    pairs.delete();
    matcher.delete();
    if (src.length / 2 < 4) return { inliers: 0, homography: null };
    const srcMat = cv.matFromArray(src.length / 2, 1, cv.CV_32FC2, src);
    const dstMat = cv.matFromArray(dst.length / 2, 1, cv.CV_32FC2, dst);
    const inlierMask = new cv.Mat();
    const h = cv.findHomography(srcMat, dstMat, cv.RANSAC, verification.ransac_px, inlierMask, RANSAC_ITERS,
      RANSAC_CONFIDENCE);
    srcMat.delete();
    dstMat.delete();
    let result = { inliers: 0, homography: null };
    if (!h.empty() && inlierMask.rows > 0) {
      let inliers = 0;
      for (let k = 0; k < inlierMask.rows; k++) inliers += inlierMask.data[k] ? 1 : 0;
      const toFrame = invert3(Array.from(h.data64F));
      if (toFrame && toFrame.every(Number.isFinite) && Math.abs(toFrame[8]) >= 1e-12) {  // else degenerate
        const s = 1 / frame.scale;  // undo the grey frame's resize
        const m = [toFrame[0] * s, toFrame[1] * s, toFrame[2] * s, toFrame[3] * s, toFrame[4] * s, toFrame[5] * s,
          toFrame[6], toFrame[7], toFrame[8]];
        result = { inliers, homography: m.map((v) => v / m[8]) };
      }
    }
    h.delete();
    inlierMask.delete();
    return result;
  }

  /** Each candidate verified in order ({a, inliers, homography}); stops early after a clear
   *  match covering the frame's centre. */
  function verifyCandidates(frame, candidates, centre) {
    const accept = verification.accept_inliers;
    const results = [];
    for (const a of candidates) {
      let { inliers, homography } = verify(frame, references.get(a));
      if (homography) {
        const [w, h] = items[a].size;
        if (!convex(boxCorners(0, 0, w, h).map(([x, y]) => project(homography, x, y)))) {
          inliers = 0;
          homography = null;
        }
      }
      results.push({ a, inliers, homography });
      if (accept && inliers >= accept
          && inside(centre, boxCorners(0, 0, ...items[a].size).map(([x, y]) => project(homography, x, y)))) break;
    }
    frame.desc.delete();
    return results;
  }

  /** Verified artworks under the frame's centre first, then by inliers, then the list's order. */
  function ranked(results, centre) {
    const minimum = verification.min_inliers;
    const rank = (r) => {
      const framed = r.inliers >= minimum
        && inside(centre, boxCorners(0, 0, ...items[r.a].size).map(([x, y]) => project(r.homography, x, y)));
      return framed ? 0 : 1;
    };
    return results.map((r, i) => ({ ...r, i, key: rank(r) }))
      .sort((p, q) => p.key - q.key || q.inliers - p.inliers || p.i - q.i);
  }

  async function recognizeRetrieval(pixels, f, secondLook = true) {
    const out = emptyDecision(mode);
    const { artworks, best } = shortlist(f);
    const centre = [pixels.width / 2, pixels.height / 2];
    const minimum = verification.min_inliers;
    let order = ranked(verifyCandidates(frameKeypoints(pixels), artworks, centre), centre);
    const fallback = verification.fallback;
    if (fallback && secondLook && (!order.length || order[0].inliers < minimum)) {
      // A second look (dark, blurred, small or off-centre artworks): the whole frame too, a
      // longer list, the equalised frame.
      const wide = fallbackShortlist(best, itemDistances(await embed(onGrey(pixels))), fallback.shortlist);
      order = ranked(verifyCandidates(frameKeypoints(pixels, fallback), wide, centre), centre);
      out.fallback = true;
    }
    out.candidates = order.map((r) => ({ item: items[r.a].id, score: r.inliers }));
    if (!order.length || order[0].inliers < minimum) return out;
    if (out.fallback && order[0].key !== 0) return out;  // the second look: only the work at the centre, never a neighbour
    const { a, inliers, homography } = order[0];
    const artwork = items[a].id;
    Object.assign(out, { item: artwork, artwork, score: inliers, homography });
    let bestArea = null;
    const margin = verification.detail_margin ?? 0;
    for (const item of items) {
      if (item.kind !== 'detail' || item.parent !== artwork || !item.region) continue;
      const quad = boxCorners(...item.region).map(([x, y]) => project(homography, x, y));
      if (!convex(quad)) continue;
      out.hotspots.push({ item: item.id, polygon: quad.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]) });
      const area = item.region[2] * item.region[3];
      const [x, y, w, h] = item.region;  // well inside: not in the band of detail_margin of its sides
      const wellInside = boxCorners(x + margin * w, y + margin * h, w * (1 - 2 * margin), h * (1 - 2 * margin))
        .map(([px, py]) => project(homography, px, py));
      if (inside(centre, wellInside) && (bestArea === null || area < bestArea)) {
        bestArea = area;
        out.detail = item.id;
        out.item = item.id;
      }
    }
    return out;
  }

  /** The detector's boxes of the recognised artwork's details: hotspots, and the detail. */
  async function recognizeDetected(source, out) {
    if (!detector || !out.artwork) return out;
    const { input, scale, width, height } = letterbox(tf, source, detector.meta);
    let found;
    try {
      found = decodeDetections(await runDetector(detector.model, input), detector.meta,
        { scale, width, height, thresholds: modes.detect.thresholds });
    } finally {
      input.dispose();
    }
    const centre = [width / 2, height / 2];
    let framed = null;
    let best = null;
    out.hotspots = [];
    for (const d of found) {  // highest score first
      const index = (modes.detect.classes[d.classIndex] || []).find((i) => items[i].parent === out.artwork);
      if (index === undefined) continue;
      const item = items[index].id;
      const [x0, y0, x1, y1] = d.box;
      const r = (v) => Math.round(v * 10) / 10;
      out.hotspots.push({ item, score: Math.round(d.score * 1e4) / 1e4,
        polygon: [[r(x0), r(y0)], [r(x1), r(y0)], [r(x1), r(y1)], [r(x0), r(y1)]] });
      best = best || item;
      if (framed === null && x0 <= centre[0] && centre[0] <= x1 && y0 <= centre[1] && centre[1] <= y1) framed = item;
    }
    out.detail = framed || best || null;
    out.item = out.detail || out.artwork;
    return out;
  }

  async function decideFrame(source, pixels, values, options = {}) {
    if (mode === 'classify') return recognizeClassify(values);
    const out = await recognizeRetrieval(pixels, values, options.secondLook !== false);
    return byDetector ? recognizeDetected(pixels, out) : out;
  }

  function recognizeClassify(probabilities) {
    const out = emptyDecision('classify');
    const order = Array.from(probabilities.keys()).sort((p, q) => probabilities[q] - probabilities[p] || p - q);
    out.candidates = order.slice(0, 5).map((c) => ({ item: items[spec.classes[c]].id, score: probabilities[c] }));
    const best = order[0];
    if (probabilities[best] < spec.thresholds[best]) return out;
    const item = items[spec.classes[best]];
    Object.assign(out, { item: item.id, score: probabilities[best] });
    if (item.kind === 'detail') Object.assign(out, { artwork: item.parent, detail: item.id });
    else out.artwork = item.id;
    return out;
  }

  return {
    bundle,
    mode,
    /** The TensorFlow.js backend the model runs on. */
    get backend() { return tf.getBackend(); },
    async features(source) { return (await features(source)).values; },
    /** The decision for a frame; `options.secondLook: false` skips the fallback (a live loop
     *  paces it: it costs several frames' time). */
    async recognize(source, options = {}) {
      const { pixels, values } = await features(source);
      return decideFrame(source, pixels, values, options);
    },
    /** Timings of the two stages (ms), for benchmarks. */
    async timed(source) {
      const t0 = performance.now();
      const { pixels, values } = await features(source);
      const t1 = performance.now();
      const decision = await decideFrame(source, pixels, values);
      return { decision, shortlist_ms: t1 - t0, verified_ms: performance.now() - t0 };
    },
    dispose() {
      model.dispose();
      if (detector) detector.model.dispose();
      for (const ref of references.values()) ref.desc.delete();
      if (orb) orb.delete();
    },
  };
}

function invert3(m) {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!det || !Number.isFinite(det)) return null;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
    B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}
