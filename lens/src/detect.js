// The lens's detection mode: the detector's TensorFlow.js graph model and its loupe.json
// (format "loupe-detector/1", written by loupe_models/detector/export.py). Decodes the output
// exactly as Python does (loupe_models/detector/decode.py): per class a heatmap peak (the
// maximum of its 3x3 neighbourhood) at or above the class's threshold, with its box.
//
//   import {loadDetector} from './detect.js';
//   const detector = await loadDetector(tf, 'detect/model.json');   // loupe.json beside it
//   const found = await detector.detect(videoElement);  // [{label, classIndex, score, box: [x0, y0, x1, y1]}]

/** Decode one output map (Float32Array of grid * grid * 5C, NHWC) into detections in picture pixels. */
export function decode(output, meta, {scale = 1, width = null, height = null, thresholds = null} = {}) {
  const C = meta.output.classes;
  const stride = meta.output.stride;
  const limit = meta.output.log_size_limit;
  const k = meta.output.peak_kernel;
  const r = Math.floor(k / 2);
  const [, H, W, D] = meta.output.shape;
  const t = thresholds || meta.thresholds;
  const score = (i, j, c) => 1 / (1 + Math.exp(-output[(i * W + j) * D + c]));
  const found = [];
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      for (let c = 0; c < C; c++) {
        const s = score(i, j, c);
        if (s < t[c]) continue;
        let peak = true;
        for (let di = -r; di <= r && peak; di++) {
          for (let dj = -r; dj <= r; dj++) {
            const ii = i + di, jj = j + dj;
            if (ii < 0 || jj < 0 || ii >= H || jj >= W) continue;
            if (score(ii, jj, c) > s) { peak = false; break; }
          }
        }
        if (!peak) continue;
        const o = (i * W + j) * D + C + 4 * c;
        const clip = (v) => Math.min(Math.max(v, -limit), limit);
        const cx = (j + 0.5 + output[o]) * stride, cy = (i + 0.5 + output[o + 1]) * stride;
        const w = Math.exp(clip(output[o + 2])) * stride, h = Math.exp(clip(output[o + 3])) * stride;
        let box = [(cx - w / 2) / scale, (cy - h / 2) / scale, (cx + w / 2) / scale, (cy + h / 2) / scale];
        if (width !== null && height !== null) {
          box = box.map((v, n) => Math.min(Math.max(v, 0), n % 2 === 0 ? width : height));
        }
        found.push({label: meta.labels[c], classIndex: c, score: s, box, order: found.length});
      }
    }
  }
  // Highest score first; ties keep grid order (row, column, class), as numpy's stable sort does.
  found.sort((a, b) => (b.score - a.score) || (a.order - b.order));
  return found.slice(0, meta.output.max_detections).map(({order, ...d}) => d);
}

/** The picture (video, image, canvas) letterboxed into the input: long side to input_size,
 * top-left, padded with pad_value. Returns {input: Tensor4D, scale, width, height}. */
export function letterbox(tf, source, meta) {
  const size = meta.input.input_size;
  const pad = meta.input.letterbox.pad_value;
  return tf.tidy(() => {
    const pixels = tf.browser.fromPixels(source).toFloat();
    const [height, width] = pixels.shape;
    const scale = size / Math.max(width, height);
    const w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale));
    const resized = tf.image.resizeBilinear(pixels, [h, w]);
    const input = tf.pad(resized, [[0, size - h], [0, size - w], [0, 0]], pad).expandDims(0);
    return {input, scale, width, height};
  });
}

/** Run the graph model on a prepared input tensor: the raw output as a Float32Array. */
export async function run(model, input) {
  const y = model.predict(input);
  try {
    return await y.data();
  } finally {
    y.dispose();
  }
}

export async function loadDetector(tf, modelUrl, metaUrl = null) {
  const model = await tf.loadGraphModel(modelUrl);
  const meta = await (await fetch(metaUrl || new URL('loupe.json', new URL(modelUrl, location.href)).href)).json();
  if (meta.format !== 'loupe-detector/1') throw new Error(`${modelUrl}: not a Loupe detector (${meta.format})`);
  return {
    model, meta,
    async detect(source, thresholds = null) {
      const {input, scale, width, height} = letterbox(tf, source, meta);
      try {
        return decode(await run(model, input), meta, {scale, width, height, thresholds});
      } finally {
        input.dispose();
      }
    },
  };
}
