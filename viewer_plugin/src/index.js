/**
 * Loupe's Mirador 4 plugin: machine annotations on the canvases on screen, a region tool that
 * searches similar regions across the collection, and a curator's review of suggestions.
 *
 *   import Mirador from 'mirador';
 *   import { loupePlugin } from '@iiif-loupe/mirador-plugin';
 *   Mirador.viewer({ id: 'viewer', loupe: { endpoint: 'https://loupe.example.org' }, windows: [...] },
 *                  [...loupePlugin]);
 *
 * Three Mirador plugins share one Redux reducer (``state.loupe``): a layer on each viewer
 * (target ``OpenSeadragonViewer``), a sidebar button (target ``WindowSideBarButtons``) and the
 * side panel (companion window ``loupe``).
 */
import {
  focusDone, focusRegion, loadPages, loupeConfig, loupeState, openContentState, regionDrawn, review, search,
  setApiKey, setMachineFilter, setSearchOptions, setTool, clearSelection, startCorrection, updateCorrection,
  endCorrection, PANEL_KEY,
} from './actions.js';
import {
  getCanvas, getVisibleCanvasIds, getWindow, receiveAnnotation,
} from 'mirador';
import { LoupePanel } from './components/LoupePanel.jsx';
import { SidebarButton } from './components/SidebarButton.jsx';
import { ViewerLayer } from './components/ViewerLayer.jsx';
import { loupeReducer, PLUGIN_STATE_KEY, windowState } from './reducer.js';

export { LoupeApi, LoupeError } from './api.js';
export {
  contentStateLink, contentStateTarget, decodeContentState, encodeContentState, regionContentState,
} from './contentState.js';
export { regionImageUrl } from './imageApi.js';
export { focusRegion, openContentState, openPanel } from './actions.js';
export { describeAnnotation, pageForMirador } from './annotations.js';

/** Mirador settings the plugin brings (the host's own config wins over them). */
export const pluginConfig = {
  translations: { en: { openCompanionWindow_loupe: 'Loupe: similar regions and machine annotations' } },
  window: {
    forceDrawAnnotations: true, // draw annotations without the annotations panel open
    highlightAllAnnotations: true, // outline every annotation, not only the hovered one
  },
};

function viewerUrlOf(config) {
  if (config.viewerUrl) return config.viewerUrl;
  return globalThis.location ? `${location.origin}${location.pathname}` : '';
}

const viewerLayer = {
  component: ViewerLayer,
  config: pluginConfig,
  mapDispatchToProps: {
    focusDone, loadPages, receiveAnnotation, regionDrawn, setTool,
  },
  mapStateToProps: (state, { windowId }) => {
    const loupe = loupeState(state);
    const own = windowState(loupe, windowId);
    return {
      correction: loupe.correction,
      decided: loupe.decided,
      endpoint: loupeConfig(state).endpoint,
      focus: own.focus,
      machineFilter: loupe.machineFilter,
      manifestId: (getWindow(state, { windowId }) || {}).manifestId,
      pages: loupe.pages,
      selection: own.selection,
      tool: own.tool,
    };
  },
  mode: 'add',
  name: 'LoupeViewerLayer',
  reducers: { [PLUGIN_STATE_KEY]: loupeReducer },
  target: 'OpenSeadragonViewer',
};

const sidebarButton = {
  component: SidebarButton,
  mode: 'add',
  name: 'LoupeSidebarButton',
  target: 'WindowSideBarButtons',
};

const panel = {
  companionWindowKey: PANEL_KEY,
  component: LoupePanel,
  mapDispatchToProps: {
    clearSelection,
    endCorrection,
    focusRegion,
    openContentState,
    review,
    search,
    setApiKey,
    setMachineFilter,
    setSearchOptions,
    setTool,
    startCorrection,
    updateCorrection,
  },
  mapStateToProps: (state, { windowId }) => {
    const loupe = loupeState(state);
    const own = windowState(loupe, windowId);
    const config = loupeConfig(state);
    const canvasIds = getVisibleCanvasIds(state, { windowId });
    return {
      apiKey: loupe.apiKey,
      correction: loupe.correction,
      decided: loupe.decided,
      endpoint: config.endpoint,
      machineFilter: loupe.machineFilter,
      own,
      pages: canvasIds.map((canvasId) => ({ canvasId, ...(loupe.pages[canvasId] || { status: 'loading' }) })),
      reviews: loupe.reviews,
      selectionCanvas: own.selection ? getCanvas(state, { canvasId: own.selection.canvasId, windowId }) : null,
      viewerUrl: viewerUrlOf(config),
    };
  },
  name: 'LoupePanel',
};

/** The plugin, as Mirador.viewer's second argument wants it (spread it into your list). */
export const loupePlugin = [viewerLayer, sidebarButton, panel];
export default loupePlugin;
