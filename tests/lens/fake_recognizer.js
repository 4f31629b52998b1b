/**
 * TEST ONLY, never shipped: a stand-in for lens/src/recognizer.js with the same interface
 * (lens/BUNDLE.md) so that the app can be tested in Chromium before and apart from the real
 * models. The browser tests copy it over dist/recognizer.js in a private copy of the build.
 *
 * It knows how the simulated visitor video (tests/lens/bundles.py, visitor_frames) frames a
 * picture: fitted into FILL of the frame, centred. It compares a 16x16 grey thumbnail of
 * that part of the frame with each artwork's (correlation), and answers as the real one
 * does: the artwork above MIN_CORRELATION, its homography (a scale and a shift), a hotspot
 * per detail and the detail under the frame's centre.
 */

const GRID = 16;
const FILL = 0.86;
const MIN_CORRELATION = 0.8;

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`cannot load ${url}`));
    image.src = url;
  });
}

function thumbnail(source, x, y, w, h) {
  const canvas = document.createElement('canvas');
  canvas.width = GRID;
  canvas.height = GRID;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, x, y, w, h, 0, 0, GRID, GRID);
  const { data } = context.getImageData(0, 0, GRID, GRID);
  const grey = [];
  for (let i = 0; i < data.length; i += 4) grey.push(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
  const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
  const std = Math.sqrt(grey.reduce((a, b) => a + (b - mean) ** 2, 0) / grey.length) + 1e-6;
  return grey.map((v) => (v - mean) / std);
}

export async function createRecognizer(bundleBaseUrl, bundle, options = {}) {
  const mode = options.mode || 'retrieval';
  const artworks = [];
  for (const item of bundle.items) {
    if (item.kind !== 'artwork' || !item.image) continue;
    const image = await loadImage(new URL(item.image, bundleBaseUrl).href);
    artworks.push({ item, size: item.size, grid: thumbnail(image, 0, 0, image.naturalWidth, image.naturalHeight) });
  }
  const details = bundle.items.filter((item) => item.kind === 'detail');

  return {
    backend: 'test',
    async recognize(frame, options = {}) {
      // What the app asked for (the pacing of the second look), for the tests to read; a test
      // may make the second look slow (globalThis.loupeSecondLookMs), as on a slow phone.
      const secondLook = options.secondLook !== false;
      (globalThis.loupeSecondLooks = globalThis.loupeSecondLooks || []).push(secondLook);
      if (secondLook && globalThis.loupeSecondLookMs) {
        (globalThis.loupeSecondLookStarts = globalThis.loupeSecondLookStarts || []).push(performance.now());
        await new Promise((resolve) => { setTimeout(resolve, globalThis.loupeSecondLookMs); });
      }
      const W = frame.width;
      const H = frame.height;
      let best = null;
      for (const artwork of artworks) {
        const [w, h] = artwork.size;
        const scale = Math.min((W * FILL) / w, (H * FILL) / h);
        const x = (W - w * scale) / 2;
        const y = (H - h * scale) / 2;
        const grid = thumbnail(frame, x, y, w * scale, h * scale);
        const score = grid.reduce((sum, v, i) => sum + v * artwork.grid[i], 0) / grid.length;
        if (!best || score > best.score) best = { artwork, score, homography: [scale, 0, x, 0, scale, y, 0, 0, 1] };
      }
      if (!best || best.score < MIN_CORRELATION) {
        return { item: null, artwork: null, detail: null, score: best ? best.score : 0, mode,
          homography: null, hotspots: [], fallback: secondLook };
      }
      const [s, , tx, , , ty] = best.homography;
      const hotspots = [];
      let detail = null;
      for (const d of details.filter((item) => item.parent === best.artwork.item.id)) {
        const [rx, ry, rw, rh] = d.region;
        const polygon = [[rx, ry], [rx + rw, ry], [rx + rw, ry + rh], [rx, ry + rh]].map(([px, py]) => [s * px + tx, s * py + ty]);
        hotspots.push({ item: d.id, polygon });
        const cx = (W / 2 - tx) / s;
        const cy = (H / 2 - ty) / s;
        if (cx >= rx && cx <= rx + rw && cy >= ry && cy <= ry + rh && (!detail || rw * rh < detail.area)) {
          detail = { id: d.id, area: rw * rh };
        }
      }
      return { item: detail ? detail.id : best.artwork.item.id, artwork: best.artwork.item.id,
        detail: detail ? detail.id : null, score: best.score, mode, homography: best.homography, hotspots };
    },
  };
}
