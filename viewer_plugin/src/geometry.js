/**
 * Rectangles between the three spaces the region tool meets: pixels of the viewer on screen,
 * Mirador's world (OpenSeadragon viewport coordinates, where each visible canvas is laid out
 * at an offset and, side by side, scaled to a common height) and a canvas's own units (what
 * IIIF selectors, content states and Loupe's references use). Pure functions.
 */

/** The rectangle spanned by two corner points, whichever way the drag went. */
export function spanRect(a, b) {
  return [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(a.x - b.x), Math.abs(a.y - b.y)];
}

/**
 * A world rectangle in the units of the canvas laid out at ``canvasWorldRect``
 * (``[x, y, w, h]`` from CanvasWorld.canvasToWorldCoordinates) whose real size is
 * ``canvasSize`` ({width, height}); clipped to the canvas, integers. Null when it misses.
 */
export function worldToCanvasRect(worldRect, canvasWorldRect, canvasSize) {
  const [cx, cy, cw, ch] = canvasWorldRect;
  const sx = canvasSize.width / cw;
  const sy = canvasSize.height / ch;
  const x0 = Math.max(0, Math.round((worldRect[0] - cx) * sx));
  const y0 = Math.max(0, Math.round((worldRect[1] - cy) * sy));
  const x1 = Math.min(canvasSize.width, Math.round((worldRect[0] + worldRect[2] - cx) * sx));
  const y1 = Math.min(canvasSize.height, Math.round((worldRect[1] + worldRect[3] - cy) * sy));
  if (x1 <= x0 || y1 <= y0) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

/** The inverse: a canvas rectangle in world units. */
export function canvasToWorldRect(xywh, canvasWorldRect, canvasSize) {
  const [cx, cy, cw, ch] = canvasWorldRect;
  const sx = cw / canvasSize.width;
  const sy = ch / canvasSize.height;
  return [cx + xywh[0] * sx, cy + xywh[1] * sy, xywh[2] * sx, xywh[3] * sy];
}

/** ``rect`` grown by ``margin`` (a fraction of its size) on every side: a view around a region. */
export function paddedRect(rect, margin = 0.15) {
  const [x, y, w, h] = rect;
  return [x - w * margin, y - h * margin, w * (1 + 2 * margin), h * (1 + 2 * margin)];
}

/** Whether a drag is large enough to be a selection rather than a click (screen pixels). */
export function isSelection(pixelRect, minimum = 8) {
  return pixelRect[2] >= minimum && pixelRect[3] >= minimum;
}
