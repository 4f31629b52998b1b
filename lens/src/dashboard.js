/**
 * The curators' dashboard /lens/<guide>/stats: asks for a curator's API key (kept for this tab
 * only), then shows GET /api/lens/<guide>/stats (totals, plots, tables; groups seen by fewer
 * than k sessions are hidden by the server) and offers its CSV.
 */

import { guideOf } from './guide.js';

const KEY = 'loupe-curator-key';
const $ = (id) => document.getElementById(id);
const guide = guideOf(window.location.href);
const api = new URL(`../../api/lens/${guide}/`, window.location.href);
const PLOT_TITLES = { top_artworks: 'Top artworks', top_details: 'Top details', hours: 'Hours',
  dwell: 'Dwell time', languages: 'Languages' };

function query(extra = {}) {
  const params = new URLSearchParams(extra);
  for (const name of ['from', 'to']) if ($(name).value) params.set(name, $(name).value);
  return params.toString();
}

async function call(path, extra) {
  const response = await fetch(`${new URL(path, api)}?${query(extra)}`, { headers: { 'X-API-Key': $('key').value.trim() } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
  }
  return response;
}

function cell(text) { return Object.assign(document.createElement('td'), { textContent: text ?? '' }); }

function fill(tableId, rows, columns) {
  $(tableId).tBodies[0].replaceChildren(...rows.map((row) => {
    const tr = document.createElement('tr');
    tr.dataset.key = row.key;
    tr.append(...columns.map((c) => cell(row[c])));
    return tr;
  }));
}

function show(report) {
  const { totals, suppressed, k } = report;
  $('totals').textContent = totals
    ? `${totals.sessions} sessions, ${totals.recognitions} recognitions, ${totals.cards} cards opened.`
    : `Fewer than ${k} sessions in this period: nothing is shown.`;
  const hidden = Object.entries(suppressed || {}).map(([section, n]) => `${n} ${section}`);
  $('suppressed').textContent = hidden.length
    ? `Hidden for having fewer than ${k} sessions: ${hidden.join(', ')}.` : '';
  $('plots').replaceChildren(...Object.entries(report.plots || {}).map(([name, png]) => Object.assign(
    document.createElement('img'), { src: `data:image/png;base64,${png}`, alt: PLOT_TITLES[name] || name, id: `plot-${name}` },
  )));
  fill('items', report.items, ['label', 'kind', 'sessions', 'recognitions', 'cards', 'dwell_median_s']);
  fill('languages', report.languages, ['key', 'sessions', 'events']);
  $('report').hidden = false;
}

async function load(event) {
  if (event) event.preventDefault();
  $('message').textContent = 'Loading…';
  try {
    const report = await (await call('stats')).json();
    sessionStorage.setItem(KEY, $('key').value.trim());
    show(report);
    $('csv').disabled = false;
    $('message').textContent = '';
    document.body.dataset.ready = 'true';
  } catch (error) {
    $('report').hidden = true;
    $('csv').disabled = true;
    $('message').textContent = error.message;
    document.body.dataset.ready = 'error';
  }
}

async function downloadCsv() {
  try {
    const blob = await (await call('stats.csv')).blob();
    const link = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(blob), download: `lens-${guide}-stats.csv`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    $('message').textContent = error.message;
  }
}

$('guide').textContent = guide || '';
$('key-form').addEventListener('submit', load);
$('csv').addEventListener('click', downloadCsv);
const saved = sessionStorage.getItem(KEY);
if (saved) {
  $('key').value = saved;
  load();
}
