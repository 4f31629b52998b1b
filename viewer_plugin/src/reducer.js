/**
 * The plugin's part of Mirador's Redux state (``state.loupe``), shared by the layer drawn on
 * each viewer (region tool, machine annotations) and the side panel:
 *
 *   windows[windowId]: { tool: null | "search" | "correct", selection, search, searchOptions, focus }
 *   pages[canvasId]:   { status: "loading" | "ready" | "missing" | "error", page, error }
 *   machineFilter:     which machine annotations are shown (see annotations.DEFAULT_FILTER)
 *   reviews[annotationId]: { decision, status: "saving" | "saved" | "error", error }
 *   decided[annotationId]: "accepted" | "rejected", the decisions saved from this viewer
 *   correction:        { annotationId, label, xywh } while a curator corrects a suggestion
 *   apiKey:            the curator's key for this session, or null
 *
 * Pure: no Mirador import, so it is tested in Node.
 */

import { DEFAULT_FILTER } from './annotations.js';

export const PLUGIN_STATE_KEY = 'loupe';
const PREFIX = 'loupe/';
export const ActionTypes = Object.fromEntries([
  'SET_TOOL', 'SELECT_REGION', 'CLEAR_SELECTION', 'SEARCH_STARTED', 'SEARCH_DONE', 'SEARCH_FAILED',
  'SET_SEARCH_OPTIONS', 'SET_MACHINE_FILTER', 'PAGE_LOADING', 'PAGE_READY', 'PAGE_MISSING', 'PAGE_FAILED',
  'REVIEW_STARTED', 'REVIEW_DONE', 'REVIEW_FAILED', 'SET_API_KEY', 'FOCUS', 'FOCUS_DONE',
  'START_CORRECTION', 'UPDATE_CORRECTION', 'END_CORRECTION',
].map((name) => [name, PREFIX + name]));

export const DEFAULT_SEARCH_OPTIONS = Object.freeze({ excludeSameCanvas: true, kind: 'all', onePerCanvas: true });
const IDLE_SEARCH = Object.freeze({ error: null, query: null, response: null, status: 'idle' });
const NEW_WINDOW = Object.freeze({
  focus: null, search: IDLE_SEARCH, searchOptions: DEFAULT_SEARCH_OPTIONS, selection: null, tool: null,
});

export const initialState = Object.freeze({
  apiKey: null, correction: null, decided: {}, machineFilter: DEFAULT_FILTER, pages: {}, reviews: {}, windows: {},
});

function updateWindow(state, windowId, patch) {
  const current = state.windows[windowId] || NEW_WINDOW;
  return { ...state, windows: { ...state.windows, [windowId]: { ...current, ...patch } } };
}

function updateKeyed(state, field, key, value) {
  return { ...state, [field]: { ...state[field], [key]: value } };
}

export function loupeReducer(state = initialState, action = {}) {
  const { windowId } = action;
  switch (action.type) {
    case ActionTypes.SET_TOOL:
      return updateWindow(state, windowId, { tool: action.tool });
    case ActionTypes.SELECT_REGION:
      return updateWindow(state, windowId, { selection: action.selection, tool: null });
    case ActionTypes.CLEAR_SELECTION:
      return updateWindow(state, windowId, { selection: null });
    case ActionTypes.SEARCH_STARTED:
      return updateWindow(state, windowId, {
        search: { ...windowState(state, windowId).search, error: null, query: action.query, status: 'loading' },
      });
    case ActionTypes.SEARCH_DONE:
      if (windowState(state, windowId).search.query !== action.query) return state; // a newer search won
      return updateWindow(state, windowId, {
        search: { error: null, query: action.query, response: action.response, status: 'done' },
      });
    case ActionTypes.SEARCH_FAILED:
      if (windowState(state, windowId).search.query !== action.query) return state;
      return updateWindow(state, windowId, {
        search: { error: action.error, query: action.query, response: null, status: 'error' },
      });
    case ActionTypes.SET_SEARCH_OPTIONS:
      return updateWindow(state, windowId, {
        searchOptions: { ...windowState(state, windowId).searchOptions, ...action.options },
      });
    case ActionTypes.SET_MACHINE_FILTER:
      return { ...state, machineFilter: { ...state.machineFilter, ...action.filter } };
    case ActionTypes.PAGE_LOADING:
      return updateKeyed(state, 'pages', action.canvasId, { error: null, page: null, status: 'loading' });
    case ActionTypes.PAGE_READY:
      return updateKeyed(state, 'pages', action.canvasId, { error: null, page: action.page, status: 'ready' });
    case ActionTypes.PAGE_MISSING:
      return updateKeyed(state, 'pages', action.canvasId, { error: null, page: null, status: 'missing' });
    case ActionTypes.PAGE_FAILED:
      return updateKeyed(state, 'pages', action.canvasId, { error: action.error, page: null, status: 'error' });
    case ActionTypes.REVIEW_STARTED:
      return updateKeyed(state, 'reviews', action.annotationId, { decision: action.decision, error: null, status: 'saving' });
    case ActionTypes.REVIEW_DONE:
      return updateKeyed(
        updateKeyed(state, 'reviews', action.annotationId, { decision: action.decision, error: null, status: 'saved' }),
        'decided', action.annotationId, action.decision,
      );
    case ActionTypes.REVIEW_FAILED:
      return updateKeyed(state, 'reviews', action.annotationId, { decision: null, error: action.error, status: 'error' });
    case ActionTypes.SET_API_KEY:
      return { ...state, apiKey: action.apiKey || null };
    case ActionTypes.FOCUS:
      return updateWindow(state, windowId, { focus: action.focus });
    case ActionTypes.FOCUS_DONE:
      return updateWindow(state, windowId, { focus: null });
    case ActionTypes.START_CORRECTION:
      return { ...state, correction: action.correction };
    case ActionTypes.UPDATE_CORRECTION:
      return state.correction ? { ...state, correction: { ...state.correction, ...action.patch } } : state;
    case ActionTypes.END_CORRECTION:
      return { ...state, correction: null };
    default:
      return state;
  }
}

/** The plugin's state of one window (defaults for a window it has not seen yet). */
export function windowState(loupeState, windowId) {
  return (loupeState && loupeState.windows[windowId]) || NEW_WINDOW;
}
