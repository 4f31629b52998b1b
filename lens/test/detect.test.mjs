// lens/src/detect.js's decoding without a browser: per-class thresholds, 3x3 peaks, boxes back
// in picture pixels (the parity test in tests/loupe_models/test_detector.py checks it against Python).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decode } from '../src/detect.js';

const meta = {
  labels: ['angel', 'virgin'], thresholds: [0.5, 0.9],
  output: { classes: 2, stride: 16, log_size_limit: 6, peak_kernel: 3, max_detections: 100, shape: [1, 4, 4, 10] },
};

function output() {
  const out = new Float32Array(4 * 4 * 10).fill(-10);
  const at = (i, j, c) => (i * 4 + j) * 10 + c;
  out[at(1, 1, 0)] = 3; out[at(1, 2, 0)] = 1;  // the angel's peak and a lower neighbour
  out.set([0.25, -0.5, Math.log(2), Math.log(3)], at(1, 1, 2));  // its box: dx, dy, log w, log h
  out[at(3, 3, 1)] = 1;  // the virgin at 0.73: under her threshold of 0.9
  return out;
}

test('decode keeps peaks above their class threshold and scales boxes back', () => {
  const found = decode(output(), meta, { scale: 0.5 });
  assert.equal(found.length, 1);
  const [d] = found;
  assert.equal(d.label, 'angel');
  assert.ok(Math.abs(d.score - 1 / (1 + Math.exp(-3))) < 1e-6);
  // centre (1 + 0.5 + 0.25, 1 + 0.5 - 0.5) cells = (28, 16) px, 32 x 48 px, then / 0.5
  assert.deepEqual(d.box.map((v) => Math.round(v * 1000) / 1000), [24, -16, 88, 80]);
  assert.equal(decode(output(), meta, { thresholds: [0.5, 0.5] }).length, 2);
  const clipped = decode(output(), meta, { scale: 0.5, width: 60, height: 70 })[0].box;
  assert.deepEqual(clipped.map((v) => Math.round(v * 1000) / 1000), [24, 0, 60, 70]);
});
