/** The printable page /lens/<guide>/qr: the guide's title and a QR code that opens the lens. */

import qrcode from 'qrcode-generator';

import { loadGuide, pick } from './guide.js';

const SVG = 'http://www.w3.org/2000/svg';

/** An <svg> of the QR code of ``text`` (error correction M, 4 modules of quiet zone). */
export function qrSvg(text) {
  const code = qrcode(0, 'M');
  code.addData(text);
  code.make();
  const count = code.getModuleCount();
  const margin = 4;
  const size = count + 2 * margin;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `QR code: ${text}`);
  svg.dataset.modules = String(count);
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', size);
  background.setAttribute('height', size);
  background.setAttribute('fill', '#fff');
  let d = '';
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) d += `M${col + margin},${row + margin}h1v1h-1z`;
    }
  }
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(background, path);
  return svg;
}

async function main() {
  const appUrl = new URL('./', window.location.href).href;
  document.getElementById('qr').replaceChildren(qrSvg(appUrl));
  document.getElementById('qr-url').textContent = appUrl;
  document.getElementById('print').addEventListener('click', () => window.print());
  try {
    const { bundle } = await loadGuide(appUrl);
    const label = pick(bundle.label, (bundle.languages || [])[0], bundle.languages || []).join(' ');
    if (label) {
      document.getElementById('qr-title').textContent = label;
      document.title = `${label} · Loupe lens`;
    }
  } catch (error) {
    console.warn('qr page: no guide title:', error);
  }
  document.body.dataset.ready = 'true';
}

main();
