/**
 * The image painted on a canvas and IIIF Image API URLs of a region of it.
 *
 * Works on the canvas's own JSON (Presentation 2 or 3, as manifesto keeps it in
 * ``__jsonld``). A region in canvas units becomes full-image pixels by the ratio of the
 * image's size to the canvas's (they differ when the canvas is a thumbnail-sized frame of
 * a larger image). Pure functions, no DOM, no Mirador.
 */

const IMAGE_SERVICE_TYPES = ['ImageService1', 'ImageService2', 'ImageService3'];

function asList(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function idOf(resource) {
  return (resource && (resource.id || resource['@id'])) || null;
}

/** The image service of a resource (or null): v3 ``service`` or v2 ``service``. */
export function imageServiceOf(resource) {
  const services = asList(resource && resource.service);
  const service = services.find((s) => s && (
    IMAGE_SERVICE_TYPES.includes(s.type || s['@type'])
    || /iiif\.io\/api\/image\//.test(JSON.stringify(s.profile || s['@context'] || ''))
  ));
  if (!service) return null;
  return {
    id: idOf(service).replace(/\/info\.json$/, '').replace(/\/$/, ''),
    level: serviceLevel(service),
    version: serviceVersion(service),
    width: service.width || null,
    height: service.height || null,
  };
}

/** 0, 1 or 2 from a profile ("level0", ".../level2.json", ["...level1.json", {...}]); 1 if unknown. */
export function serviceLevel(service) {
  const profiles = asList(service.profile).filter((p) => typeof p === 'string');
  for (const profile of profiles) {
    const match = /level([012])/.exec(profile);
    if (match) return Number(match[1]);
  }
  return 1;
}

function serviceVersion(service) {
  const type = service.type || service['@type'] || '';
  if (type === 'ImageService3' || /image\/3/.test(JSON.stringify(service['@context'] || ''))) return 3;
  if (type === 'ImageService1' || /image\/1/.test(JSON.stringify(service['@context'] || ''))) return 1;
  return 2;
}

/**
 * The image painted on a canvas: ``{id, width, height, service}`` (service may be null), or
 * null when the canvas paints no image. A Choice gives its first (default) item.
 */
export function paintedImage(canvasJson) {
  if (!canvasJson) return null;
  let body = null;
  if (canvasJson.items) { // Presentation 3: AnnotationPage > Annotation > body
    const annotation = asList(canvasJson.items).flatMap((page) => asList(page.items))
      .find((a) => asList(a.motivation).includes('painting'));
    body = annotation && asList(annotation.body)[0];
  } else if (canvasJson.images) { // Presentation 2: images[].resource
    body = asList(canvasJson.images)[0] && asList(canvasJson.images)[0].resource;
  }
  if (body && (body.type === 'Choice' || body['@type'] === 'oa:Choice')) {
    body = asList(body.items || body.default)[0];
  }
  if (!body) return null;
  const service = imageServiceOf(body);
  return {
    id: idOf(body),
    width: body.width || (service && service.width) || null,
    height: body.height || (service && service.height) || null,
    service,
  };
}

/** ``xywh`` (canvas units) in full-image pixels, clipped to the image; null when it misses it. */
export function canvasToImagePixels(xywh, canvas, image) {
  const sx = image.width / canvas.width;
  const sy = image.height / canvas.height;
  if (!Number.isFinite(sx) || !Number.isFinite(sy)) return null;
  const x0 = Math.max(0, Math.round(xywh[0] * sx));
  const y0 = Math.max(0, Math.round(xywh[1] * sy));
  const x1 = Math.min(image.width, Math.round((xywh[0] + xywh[2]) * sx));
  const y1 = Math.min(image.height, Math.round((xywh[1] + xywh[3]) * sy));
  if (x1 <= x0 || y1 <= y0) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * The Image API URL of a region (canvas units) of a canvas's image, at full size:
 * ``{url, pixels, level}``. ``level`` 0 means the server publishes only whole images and will
 * not cut the region (the URL is still the region's correct address on a fuller server).
 * Throws an Error saying why when there is no image service or the sizes are unknown.
 */
export function regionImageUrl(canvasJson, canvasSize, xywh) {
  const image = paintedImage(canvasJson);
  if (!image || !image.service) {
    throw new Error('this canvas has no IIIF Image API service, so a region has no image URL');
  }
  const { service } = image;
  const size = { height: service.height || image.height, width: service.width || image.width };
  if (!size.width || !size.height || !canvasSize.width || !canvasSize.height) {
    throw new Error('the image or canvas size is unknown, so the region cannot be mapped to pixels');
  }
  const pixels = canvasToImagePixels(xywh, canvasSize, size);
  if (!pixels) throw new Error('the selected region lies outside the image');
  const fullSize = service.version === 3 ? 'max' : 'full';
  return {
    level: service.level,
    pixels,
    url: `${service.id}/${pixels.join(',')}/${fullSize}/0/default.jpg`,
  };
}
