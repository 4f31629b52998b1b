/**
 * What the plugin does, as Redux actions and thunks (Mirador's store runs redux-thunk):
 * searches, loading Loupe's annotation pages, reviews, and moving a window to a region.
 * The Loupe service is the one configured as ``loupe.endpoint`` in Mirador's config.
 */

import {
  addCompanionWindow, addOrUpdateCompanionWindow, getCompanionWindowsForContent, getConfig, getWindow, miradorSlice,
  setCanvas, updateWindow,
} from 'mirador';
import { LoupeApi, LoupeError } from './api.js';
import { contentStateTarget } from './contentState.js';
import { ActionTypes, PLUGIN_STATE_KEY, windowState } from './reducer.js';

export const PANEL_KEY = 'loupe';

/** The plugin's slice of the store's state. */
export function loupeState(state) {
  return miradorSlice(state)[PLUGIN_STATE_KEY];
}

/** The plugin's settings (Mirador config ``loupe``). */
export function loupeConfig(state) {
  return getConfig(state).loupe || {};
}

function apiOf(state) {
  return new LoupeApi({ endpoint: loupeConfig(state).endpoint });
}

function message(error) {
  return error instanceof LoupeError ? error.message : `unexpected problem: ${error && error.message}`;
}

export const setTool = (windowId, tool) => ({ tool, type: ActionTypes.SET_TOOL, windowId });
export const setSearchOptions = (windowId, options) => ({ options, type: ActionTypes.SET_SEARCH_OPTIONS, windowId });
export const setMachineFilter = (filter) => ({ filter, type: ActionTypes.SET_MACHINE_FILTER });
export const setApiKey = (apiKey) => ({ apiKey, type: ActionTypes.SET_API_KEY });
export const clearSelection = (windowId) => ({ type: ActionTypes.CLEAR_SELECTION, windowId });
export const focusDone = (windowId) => ({ type: ActionTypes.FOCUS_DONE, windowId });
export const startCorrection = (correction) => ({ correction, type: ActionTypes.START_CORRECTION });
export const updateCorrection = (patch) => ({ patch, type: ActionTypes.UPDATE_CORRECTION });
export const endCorrection = () => ({ type: ActionTypes.END_CORRECTION });

/**
 * Open the plugin's panel in a window, unless it is open: in the sidebar (opening it), or
 * where config ``loupe.panelPosition`` says ("far-bottom" suits phones: the image stays in view).
 */
export function openPanel(windowId) {
  return (dispatch, getState) => {
    const state = getState();
    const position = loupeConfig(state).panelPosition || 'left';
    const window = getWindow(state, { windowId });
    if (position !== 'left') {
      const shown = getCompanionWindowsForContent(state, { content: PANEL_KEY, windowId })
        .some((cw) => cw.position === position || (cw.position === 'left' && window && window.sideBarOpen));
      if (!shown) dispatch(addCompanionWindow(windowId, { content: PANEL_KEY, position }));
      return;
    }
    if (window && !window.sideBarOpen) dispatch(updateWindow(windowId, { sideBarOpen: true }));
    dispatch(addOrUpdateCompanionWindow(windowId, { content: PANEL_KEY, position }));
  };
}

/**
 * A region drawn with the tool. In "search" mode it becomes the window's selection, the
 * panel opens and similar regions are searched; in "correct" mode it is the new box of the
 * suggestion being corrected.
 */
export function regionDrawn(windowId, selection) {
  return (dispatch, getState) => {
    const { tool } = windowState(loupeState(getState()), windowId);
    if (tool === 'correct') {
      dispatch(updateCorrection({ xywh: selection.xywh }));
      dispatch(setTool(windowId, null));
      return;
    }
    dispatch({ selection, type: ActionTypes.SELECT_REGION, windowId });
    dispatch(openPanel(windowId));
    dispatch(search(windowId, { type: 'region' }));
  };
}

/**
 * Run a search for a window: ``{type: "region"}`` (the selection), ``{type: "composed",
 * text, textWeight}`` (the selection changed by a sentence) or ``{type: "text", text}``.
 * Without a type, the window's last search again (after its options changed).
 */
export function search(windowId, request = null) {
  return async (dispatch, getState) => {
    const state = getState();
    const own = windowState(loupeState(state), windowId);
    const previous = own.search.query;
    const query = request ? { ...request, selection: request.type === 'text' ? null : own.selection } : previous;
    if (!query) return;
    const options = { ...own.searchOptions, limit: loupeConfig(state).searchLimit || 24 };
    dispatch({ query, type: ActionTypes.SEARCH_STARTED, windowId });
    try {
      if (query.type !== 'text' && !query.selection) {
        throw new LoupeError('select a region first: press "Select a region" and drag a box on the image');
      }
      const api = apiOf(state);
      const reference = query.selection && {
        canvas: query.selection.canvasId, manifest: query.selection.manifestId, xywh: query.selection.xywh,
      };
      let response;
      if (query.type === 'region') response = await api.searchRegion(reference, options);
      else if (query.type === 'composed') {
        if (!query.text || !query.text.trim()) throw new LoupeError('type a few words that change the region, e.g. "at night"');
        response = await api.searchComposed(reference, query.text.trim(), query.textWeight, options);
      } else {
        if (!query.text || !query.text.trim()) throw new LoupeError('type a few words to search for');
        response = await api.searchText(query.text.trim(), options);
      }
      dispatch({ query, response, type: ActionTypes.SEARCH_DONE, windowId });
    } catch (error) {
      dispatch({ error: message(error), query, type: ActionTypes.SEARCH_FAILED, windowId });
    }
  };
}

/** Fetch Loupe's machine annotation pages of canvases not loaded yet (or all, with ``reload``). */
export function loadPages(canvasIds, { reload = false } = {}) {
  return async (dispatch, getState) => {
    const state = getState();
    const { pages } = loupeState(state);
    const { endpoint } = loupeConfig(state);
    if (!endpoint) return;
    const wanted = canvasIds.filter((id) => reload || !pages[id]);
    await Promise.all(wanted.map(async (canvasId) => {
      if (!reload) dispatch({ canvasId, type: ActionTypes.PAGE_LOADING });
      try {
        const page = await apiOf(state).annotationPage(canvasId);
        dispatch({ canvasId, page, type: ActionTypes.PAGE_READY });
      } catch (error) {
        if (error instanceof LoupeError && error.status === 404) {
          dispatch({ canvasId, type: ActionTypes.PAGE_MISSING }); // a canvas Loupe has not harvested
        } else {
          dispatch({ canvasId, error: message(error), type: ActionTypes.PAGE_FAILED });
        }
      }
    }));
  };
}

/**
 * A curator's decision on a machine annotation (``facts`` from describeAnnotation), with an
 * optional correction ({label, xywh}) when accepting; then the canvas's page is read again.
 */
export function review(facts, decision, correction = null) {
  return async (dispatch, getState) => {
    const state = getState();
    const { apiKey } = loupeState(state);
    dispatch({ annotationId: facts.id, decision, type: ActionTypes.REVIEW_STARTED });
    try {
      if (facts.regionId === null) throw new LoupeError('this annotation has no Loupe region id, so it cannot be reviewed here');
      await apiOf(state).review(facts.regionId, decision, apiKey, correction);
      dispatch({ annotationId: facts.id, decision, type: ActionTypes.REVIEW_DONE });
      if (correction) dispatch(endCorrection());
      if (facts.canvasId) await dispatch(loadPages([facts.canvasId], { reload: true }));
    } catch (error) {
      dispatch({ annotationId: facts.id, error: message(error), type: ActionTypes.REVIEW_FAILED });
    }
  };
}

/** Show a region of a canvas in a window (the layer on the viewer zooms once it is there). */
export function focusRegion(windowId, canvasId, xywh) {
  return { focus: { canvasId, xywh }, type: ActionTypes.FOCUS, windowId };
}

/**
 * Open a content state in a window: its manifest (replacing the window's if another), its
 * canvas, zoomed to its region. Throws when it cannot be read.
 */
export function openContentState(windowId, contentState) {
  return (dispatch, getState) => {
    const { canvasId, manifestId, xywh } = contentStateTarget(contentState);
    const window = getWindow(getState(), { windowId });
    if (window && window.manifestId === manifestId && canvasId) {
      dispatch(setCanvas(windowId, canvasId));
    } else {
      dispatch(updateWindow(windowId, { canvasId, manifestId }));
    }
    if (canvasId && xywh) dispatch(focusRegion(windowId, canvasId, xywh));
  };
}
