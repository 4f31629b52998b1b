/**
 * What the plugin adds on each Mirador viewer (target ``OpenSeadragonViewer``, mode ``add``;
 * Mirador passes the OpenSeadragon ``viewer``, the ``canvasWorld`` and the ``windowId``):
 *
 * - loads Loupe's machine annotations for the canvases on screen and hands them to Mirador
 *   (``receiveAnnotation``), filtered and coloured by kind, again whenever the filter or a
 *   review changes;
 * - the region tool: a button, then a drag on the image draws a box in canvas units;
 * - the current selection, drawn over the image;
 * - moving the view to a region asked for (a search result, a content state) once its
 *   canvas is on screen.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import Button from '@mui/material/Button';
import { SelectRegionIcon } from './icons.jsx';
import { pageForMirador } from '../annotations.js';
import {
  canvasToWorldRect, isSelection, paddedRect, spanRect, worldToCanvasRect,
} from '../geometry.js';

const SELECTION_COLOUR = '#d500f9';

/**
 * An OpenSeadragon Point without importing OpenSeadragon (Mirador bundles its own copy):
 * made from one the viewport returns, since ``Point.plus`` accepts any {x, y}.
 */
function osdPoint(viewer, x, y) {
  return viewer.viewport.getCenter(true).times(0).plus({ x, y });
}

function canvasSize(miradorCanvas) {
  return { height: miradorCanvas.getHeight(), width: miradorCanvas.getWidth() };
}

/**
 * Move the view to a world rectangle (with a margin). An OpenSeadragon Rect is a clone of the
 * viewport's bounds with new values; Mirador records the new view when the animation ends.
 */
function showWorldRect(viewer, worldRect) {
  const [x, y, width, height] = paddedRect(worldRect);
  const rect = viewer.viewport.getBounds(true).clone();
  Object.assign(rect, { degrees: 0, height, width, x, y });
  viewer.viewport.fitBounds(rect, false);
}

/** Screen pixels (relative to the viewer) of a canvas rectangle, or null when off this world. */
function pixelRect(viewer, canvasWorld, canvasId, xywh) {
  const canvas = canvasWorld.canvases.find((c) => c.id === canvasId);
  if (!canvas || !viewer || !viewer.viewport) return null;
  const world = canvasToWorldRect(xywh, canvasWorld.canvasToWorldCoordinates(canvasId), canvasSize(canvas));
  const a = viewer.viewport.pixelFromPoint(osdPoint(viewer, world[0], world[1]), true);
  const b = viewer.viewport.pixelFromPoint(osdPoint(viewer, world[0] + world[2], world[1] + world[3]), true);
  return spanRect(a, b);
}

/** Re-render on every viewport change, so that boxes follow pans and zooms. */
function useViewportTick(viewer) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!viewer) return undefined;
    const bump = () => setTick((t) => t + 1);
    viewer.addHandler('update-viewport', bump);
    return () => viewer.removeHandler('update-viewport', bump);
  }, [viewer]);
  return tick;
}

/** True once the viewer has drawn its first tile (Mirador sets the first view then). */
function useViewerReady(viewer) {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (!viewer) return undefined;
    if (viewer.world && viewer.world.getItemCount() > 0 && viewer.world.getItemAt(0).getFullyLoaded?.()) {
      setReady(true);
      return undefined;
    }
    const done = () => setReady(true);
    viewer.addOnceHandler('tile-loaded', done);
    return () => viewer.removeHandler('tile-loaded', done);
  }, [viewer]);
  return ready;
}

function RegionTool({ canvasWorld, manifestId, onCancel, onDrawn, viewer, mode }) {
  const [drag, setDrag] = useState(null);
  const layer = useRef(null);

  useEffect(() => {
    const onKey = (event) => { if (event.key === 'Escape') onCancel(); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onCancel]);

  const local = (event) => {
    const box = layer.current.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };
  const onPointerDown = (event) => {
    event.preventDefault();
    event.stopPropagation();
    layer.current.setPointerCapture?.(event.pointerId);
    const start = local(event);
    setDrag({ end: start, start });
  };
  const onPointerMove = (event) => {
    if (!drag) return;
    event.preventDefault();
    setDrag({ ...drag, end: local(event) });
  };
  const onPointerUp = (event) => {
    if (!drag) return;
    event.preventDefault();
    const end = local(event);
    setDrag(null);
    const pixels = spanRect(drag.start, end);
    if (!isSelection(pixels)) return;
    const topLeft = viewer.viewport.pointFromPixel(osdPoint(viewer, pixels[0], pixels[1]), true);
    const bottomRight = viewer.viewport.pointFromPixel(osdPoint(viewer, pixels[0] + pixels[2], pixels[1] + pixels[3]), true);
    const world = spanRect(topLeft, bottomRight);
    const centre = { x: world[0] + world[2] / 2, y: world[1] + world[3] / 2 };
    const canvas = canvasWorld.canvasAtPoint(centre) || canvasWorld.canvasAtPoint(topLeft);
    if (!canvas) return;
    const xywh = worldToCanvasRect(world, canvasWorld.canvasToWorldCoordinates(canvas.id), canvasSize(canvas));
    if (xywh) onDrawn({ canvasId: canvas.id, manifestId, xywh });
  };

  const rect = drag && spanRect(drag.start, drag.end);
  return (
    <div
      ref={layer}
      data-loupe="region-tool"
      role="application"
      aria-label={mode === 'correct' ? 'Draw the corrected box' : 'Draw a box around a detail to find similar ones'}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      style={{
        cursor: 'crosshair', inset: 0, position: 'absolute', touchAction: 'none', zIndex: 45,
      }}
    >
      <div style={{
        background: 'rgba(0,0,0,0.7)', borderRadius: 4, color: '#fff', font: '14px/1.4 sans-serif', left: '50%',
        padding: '4px 10px', pointerEvents: 'none', position: 'absolute', top: 56, transform: 'translateX(-50%)',
        whiteSpace: 'nowrap',
      }}
      >
        {mode === 'correct' ? 'Drag the corrected box' : 'Drag a box around a detail'}
        {' · Esc to cancel'}
      </div>
      {rect && (
        <div
          data-loupe="drag-box"
          style={{
            border: `2px dashed ${SELECTION_COLOUR}`, boxSizing: 'border-box', height: rect[3], left: rect[0], pointerEvents: 'none',
            position: 'absolute', top: rect[1], width: rect[2],
          }}
        />
      )}
    </div>
  );
}

function SelectionBox({ rect, label }) {
  return (
    <div
      data-loupe="selection"
      title={label}
      style={{
        border: `2px solid ${SELECTION_COLOUR}`, boxShadow: '0 0 0 1px rgba(255,255,255,0.8)', height: rect[3],
        boxSizing: 'border-box', left: rect[0], pointerEvents: 'none', position: 'absolute', top: rect[1], width: rect[2], zIndex: 40,
      }}
    />
  );
}

export function ViewerLayer({
  canvasWorld, correction = null, decided, endpoint, focus, focusDone, loadPages, machineFilter, manifestId,
  pages, receiveAnnotation, regionDrawn, selection, setTool, tool, viewer, windowId,
}) {
  const canvasIds = useMemo(() => (canvasWorld ? canvasWorld.canvasIds : []), [canvasWorld]);
  const canvasKey = canvasIds.join('\n');
  useViewportTick(viewer);
  const ready = useViewerReady(viewer);

  useEffect(() => {
    if (endpoint && canvasIds.length) loadPages(canvasIds);
  }, [canvasKey, endpoint]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    canvasIds.forEach((canvasId) => {
      const entry = pages[canvasId];
      if (entry && entry.status === 'ready' && entry.page && entry.page.id) {
        receiveAnnotation(canvasId, entry.page.id, pageForMirador(entry.page, machineFilter, decided));
      }
    });
  }, [canvasKey, pages, machineFilter, decided]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!focus || !ready || !viewer || !canvasIds.includes(focus.canvasId)) return;
    const canvas = canvasWorld.canvases.find((c) => c.id === focus.canvasId);
    const worldRect = focus.xywh
      ? canvasToWorldRect(focus.xywh, canvasWorld.canvasToWorldCoordinates(focus.canvasId), canvasSize(canvas))
      : canvasWorld.canvasToWorldCoordinates(focus.canvasId);
    showWorldRect(viewer, worldRect);
    focusDone(windowId);
  }, [focus, ready, canvasKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const onCancel = useCallback(() => setTool(windowId, null), [setTool, windowId]);
  const onDrawn = useCallback((drawn) => regionDrawn(windowId, drawn), [regionDrawn, windowId]);

  if (!viewer || !canvasWorld) return null;
  const shown = tool === 'correct' && correction && correction.xywh
    ? { canvasId: correction.canvasId, xywh: correction.xywh }
    : selection;
  const rect = shown && shown.xywh && pixelRect(viewer, canvasWorld, shown.canvasId, shown.xywh);
  return (
    <>
      <div style={{ position: 'absolute', right: 8, top: 8, zIndex: 46 }}>
        <Button
          data-loupe="select-region"
          variant="contained"
          size="small"
          color={tool ? 'secondary' : 'primary'}
          startIcon={<SelectRegionIcon />}
          aria-pressed={Boolean(tool)}
          onClick={() => setTool(windowId, tool ? null : 'search')}
        >
          {tool ? 'Cancel' : 'Select a region'}
        </Button>
      </div>
      {rect && <SelectionBox rect={rect} label="Selected region" />}
      {tool && (
        <RegionTool
          canvasWorld={canvasWorld}
          manifestId={manifestId}
          mode={tool}
          onCancel={onCancel}
          onDrawn={onDrawn}
          viewer={viewer}
        />
      )}
    </>
  );
}
