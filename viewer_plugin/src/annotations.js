/**
 * Loupe's machine annotations as Mirador shows them: what each one is (proposed by a model,
 * accepted by a curator, or made by a person), which of them the visitor wants to see, and
 * how each kind is drawn.
 *
 * Loupe serves a canvas's machine annotations as a IIIF AnnotationPage
 * (``/iiif/annotations/<key>.json``). A machine annotation names its model (``generator``),
 * the process that made it (``creator``) and its confidence (``loupe:confidence``); a review
 * state, when the server states it, is ``loupe:review``. Mirador 4 draws a box from a
 * FragmentSelector in one colour for every annotation, but takes stroke and fill from the
 * attributes of an SvgSelector's path: so each machine annotation gets an SvgSelector drawn
 * in the colours of its kind, and people's annotations keep Mirador's own look.
 * Pure functions, no DOM, no Mirador.
 */

export const KINDS = {
  accepted: { dash: null, fill: 'none', label: 'accepted by a curator', stroke: '#2e7d32', width: 3 },
  human: { dash: null, fill: 'none', label: 'by a person', stroke: '#00bfff', width: 1 },
  proposed: { dash: '12,6', fill: '#ff9800', label: 'suggested by a model', stroke: '#ff9800', width: 2 },
};
export const CONFIDENCE = 'loupe:confidence';
export const REVIEW = 'loupe:review';
const REGION_ID = /#region-(\d+)$/;

function asList(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function agentName(agent) {
  if (!agent) return null;
  if (typeof agent === 'string') return agent;
  if (agent.name) return String(agent.name);
  const label = agent.label && Object.values(agent.label)[0];
  return label ? String(asList(label)[0]) : (agent.id || null);
}

/** The box of an annotation's target (canvas units), or null for the whole canvas. */
export function targetBox(annotation) {
  const target = asList(annotation.target)[0];
  if (!target) return null;
  const texts = typeof target === 'string'
    ? [target]
    : asList(target.selector).map((s) => (s && s.value) || '').concat([(target.source && target.source.id) || ''])
      .concat(typeof target.source === 'string' ? [target.source] : []);
  for (const text of texts) {
    const match = /xywh=(?:pixel:)?([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)/.exec(text);
    if (match) return match.slice(1, 5).map(Number);
  }
  return null;
}

/** The canvas an annotation targets. */
export function targetCanvas(annotation) {
  const target = asList(annotation.target)[0];
  if (!target) return null;
  if (typeof target === 'string') return target.split('#')[0];
  const source = typeof target.source === 'string' ? target.source : (target.source && target.source.id);
  return (source || target.id || '').split('#')[0] || null;
}

/**
 * What the panel needs to know of an annotation of Loupe's page:
 * ``{id, regionId, kind, label, confidence, model, source, box, canvasId}``. ``reviews``
 * (annotation id -> "accepted" | "rejected") are decisions taken in this viewer, which count
 * before the server has said so.
 */
export function describeAnnotation(annotation, reviews = {}) {
  const confidence = typeof annotation[CONFIDENCE] === 'number' ? annotation[CONFIDENCE] : null;
  const model = agentName(annotation.generator);
  const machine = Boolean(model) || confidence !== null;
  const review = reviews[annotation.id] || annotation[REVIEW] || (machine ? 'proposed' : null);
  let kind = 'human';
  if (machine) kind = review === 'accepted' ? 'accepted' : 'proposed';
  if (review === 'rejected') kind = 'rejected';
  const match = REGION_ID.exec(annotation.id || '');
  return {
    box: targetBox(annotation),
    canvasId: targetCanvas(annotation),
    confidence,
    id: annotation.id,
    kind,
    label: asList(annotation.body).map((b) => b && (b.value || agentName(b))).filter(Boolean).join('; '),
    model: model || (machine ? 'unknown model' : null),
    regionId: match ? Number(match[1]) : null,
    source: agentName(annotation.creator) || (machine ? 'unknown process' : 'unknown'),
  };
}

/** Default filter: every machine annotation shown, whatever its confidence. */
export const DEFAULT_FILTER = Object.freeze({
  hiddenKinds: [], hiddenModels: [], hiddenSources: [], minConfidence: 0, visible: true,
});

/** Whether the filter lets an annotation (as ``describeAnnotation`` gives it) be shown. */
export function isShown(facts, filter = DEFAULT_FILTER) {
  if (facts.kind === 'rejected') return false;
  if (facts.kind === 'human') return true;
  if (!filter.visible) return false;
  if (filter.hiddenKinds.includes(facts.kind)) return false;
  if (filter.hiddenModels.includes(facts.model)) return false;
  if (filter.hiddenSources.includes(facts.source)) return false;
  return facts.confidence === null || facts.confidence >= filter.minConfidence;
}

/** An SVG document with the box as a closed path, in the colours of ``kind``. */
export function styledBoxSvg(box, kind) {
  const style = KINDS[kind] || KINDS.proposed;
  const [x, y, w, h] = box.map((v) => Math.round(v));
  const attributes = [
    `d="M${x},${y} h${w} v${h} h${-w} Z"`,
    `stroke="${style.stroke}"`,
    `stroke-width="${style.width}"`,
    `fill="${style.fill}"`,
  ];
  if (style.fill !== 'none') attributes.push('fill-opacity="0.12"');
  if (style.dash) attributes.push(`stroke-dasharray="${style.dash}"`);
  return `<svg xmlns="http://www.w3.org/2000/svg"><path ${attributes.join(' ')}/></svg>`;
}

function styled(annotation, kind) {
  const box = targetBox(annotation);
  const target = asList(annotation.target)[0];
  if (!box || !target || typeof target !== 'object' || kind === 'human') return annotation;
  const selectors = asList(target.selector).filter((s) => s && s.type !== 'SvgSelector');
  return {
    ...annotation,
    target: {
      ...target,
      selector: [...selectors, { type: 'SvgSelector', value: styledBoxSvg(box, kind) }],
    },
  };
}

/**
 * The page to give Mirador (``receiveAnnotation``): the annotations the filter lets through,
 * machine ones drawn in their kind's colours; rejected ones never. Same id as Loupe's page, so
 * each new version replaces the previous one in Mirador's state.
 */
export function pageForMirador(page, filter = DEFAULT_FILTER, reviews = {}) {
  const items = asList(page && page.items)
    .map((annotation) => ({ annotation, facts: describeAnnotation(annotation, reviews) }))
    .filter(({ facts }) => isShown(facts, filter))
    .map(({ annotation, facts }) => styled(annotation, facts.kind));
  return { ...page, items };
}

/** Distinct values of ``field`` ("model", "source") among machine annotations, sorted. */
export function facetValues(describedList, field) {
  const values = new Set(describedList.filter((f) => f.kind !== 'human').map((f) => f[field]).filter(Boolean));
  return [...values].sort((a, b) => a.localeCompare(b));
}
