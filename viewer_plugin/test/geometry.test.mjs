import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canvasToWorldRect, isSelection, paddedRect, spanRect, worldToCanvasRect,
} from '../src/geometry.js';

test('a drag in any direction spans the same rectangle', () => {
  assert.deepEqual(spanRect({ x: 50, y: 10 }, { x: 10, y: 40 }), [10, 10, 40, 30]);
  assert.equal(isSelection([0, 0, 20, 3]), false);
  assert.equal(isSelection([0, 0, 20, 20]), true);
});

test('world and canvas rectangles convert both ways, with the layout offset and scale', () => {
  const laidOut = [1000, 0, 500, 400]; // the second canvas of a book view, scaled to half size
  const size = { height: 800, width: 1000 };
  assert.deepEqual(worldToCanvasRect([1100, 50, 100, 100], laidOut, size), [200, 100, 200, 200]);
  assert.deepEqual(canvasToWorldRect([200, 100, 200, 200], laidOut, size), [1100, 50, 100, 100]);
  assert.deepEqual(worldToCanvasRect([900, -50, 300, 200], laidOut, size), [0, 0, 400, 300], 'clipped to the canvas');
  assert.equal(worldToCanvasRect([0, 0, 100, 100], laidOut, size), null);
});

test('a view around a region leaves a margin on every side', () => {
  assert.deepEqual(paddedRect([100, 100, 200, 100], 0.1), [80, 90, 240, 120]);
});
