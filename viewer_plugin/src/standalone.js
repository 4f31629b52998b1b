/**
 * The standalone build (an IIFE with Mirador inside, ``window.LoupeMirador``) used by Loupe's
 * own viewer page and by any page without a bundler:
 *
 *   <div id="viewer"></div>
 *   <script src="loupe-mirador.js"></script>
 *   <script>
 *     LoupeMirador.open({ id: 'viewer', endpoint: 'https://loupe.example.org',
 *                         manifest: 'https://example.org/manifest.json' });
 *   </script>
 *
 * ``open`` also takes ``contentState`` (the value of a ``?iiif-content=`` link): the window
 * then opens that manifest and canvas, zoomed to its region.
 */
import Mirador, { OSDReferences } from 'mirador';
import { focusRegion } from './actions.js';
import { contentStateTarget, CONTENT_STATE_PARAM } from './contentState.js';
import { loupePlugin } from './index.js';

// OSDReferences.get(windowId).current is a window's OpenSeadragon viewer (for page scripts and tests).
export { Mirador, OSDReferences, loupePlugin, CONTENT_STATE_PARAM };
export * from './index.js';

const WINDOW_ID = 'loupe-window';

/**
 * Start Mirador with the plugin in the element ``id``. Returns Mirador's viewer (``.store``
 * is its Redux store). Throws an Error saying what is missing or unreadable.
 */
export function open({
  catalog = [], contentState = null, endpoint, id, manifest = null, miradorConfig = {}, panelPosition = null,
  viewerUrl = null,
}) {
  let target = { canvasId: null, manifestId: manifest, xywh: null };
  if (contentState) target = contentStateTarget(contentState);
  if (!target.manifestId) throw new Error('give a manifest to open (?manifest=URL) or a content state (?iiif-content=)');
  const windowConfig = { id: WINDOW_ID, manifestId: target.manifestId };
  if (target.canvasId) windowConfig.canvasId = target.canvasId;
  const viewer = Mirador.viewer({
    catalog: catalog.map((manifestId) => ({ manifestId })),
    id,
    loupe: { endpoint, ...(panelPosition ? { panelPosition } : {}), ...(viewerUrl ? { viewerUrl } : {}) },
    osdConfig: { crossOriginPolicy: 'Anonymous' },
    windows: [windowConfig],
    ...miradorConfig,
  }, [...loupePlugin]);
  if (target.canvasId && target.xywh) viewer.store.dispatch(focusRegion(WINDOW_ID, target.canvasId, target.xywh));
  return viewer;
}
