/**
 * Draws on the live view: the recognised artwork's outline (its reference image's corners
 * through the homography) and a hotspot per detail (decision.hotspots polygons), in the
 * coordinates of the frame given to the recognizer. The SVG's viewBox is that frame and
 * ``xMidYMid slice`` crops it exactly as the video's ``object-fit: cover`` does.
 */

const SVG = 'http://www.w3.org/2000/svg';

/** Reference image pixel (x, y) through a row-major 3x3 homography. */
export function project(h, x, y) {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
}

export class Overlay {
  constructor(svg, onTap) {
    this.svg = svg;
    this.onTap = onTap;
    svg.setAttribute('preserveAspectRatio', 'xMidYMid slice');
    svg.addEventListener('click', (event) => {
      const target = event.target.closest('.hotspot');
      if (target) this.onTap(target.dataset.item);
    });
    svg.addEventListener('keydown', (event) => {
      const target = event.target.closest('.hotspot');
      if (target && (event.key === 'Enter' || event.key === ' ')) {
        event.preventDefault();
        this.onTap(target.dataset.item);
      }
    });
  }

  /** Show ``decision`` (null: nothing) over a frame of ``width`` x ``height``. */
  draw(decision, width, height, items, title) {
    this.svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const nodes = [];
    const artwork = decision && items.get(decision.artwork);
    if (artwork && Array.isArray(decision.homography) && decision.homography.length === 9 && artwork.size) {
      const [w, h] = artwork.size;
      nodes.push(polygon([[0, 0], [w, 0], [w, h], [0, h]].map(([x, y]) => project(decision.homography, x, y)),
        'artwork'));
    }
    for (const spot of (decision && decision.hotspots) || []) {
      if (!items.has(spot.item) || !Array.isArray(spot.polygon)) continue;
      const node = polygon(spot.polygon, 'hotspot');
      node.dataset.item = spot.item;
      node.setAttribute('tabindex', '0');
      node.setAttribute('role', 'button');
      node.setAttribute('aria-label', title(items.get(spot.item)));
      nodes.push(node);
    }
    this.svg.replaceChildren(...nodes);
  }
}

function polygon(points, className) {
  const node = document.createElementNS(SVG, 'polygon');
  node.setAttribute('points', points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '));
  node.setAttribute('class', className);
  return node;
}
