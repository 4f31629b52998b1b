import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canvasToImagePixels, paintedImage, regionImageUrl, serviceLevel } from '../src/imageApi.js';

const v3Canvas = (width, height, service) => ({
  height, id: 'c', items: [{ items: [{ body: { height: 2000, id: 'img.jpg', service: [service], type: 'Image', width: 3000 }, motivation: 'painting' }] }], type: 'Canvas', width,
});

test('a region of a level 2 v3 service, on a canvas the size of the image', () => {
  const canvas = v3Canvas(3000, 2000, { id: 'https://img.example.org/iiif/3/abc', profile: 'level2', type: 'ImageService3' });
  const found = regionImageUrl(canvas, { height: 2000, width: 3000 }, [100, 200, 300, 400]);
  assert.equal(found.url, 'https://img.example.org/iiif/3/abc/100,200,300,400/max/0/default.jpg');
  assert.equal(found.level, 2);
});

test('canvas units are scaled to image pixels and clipped to the image', () => {
  const canvas = v3Canvas(1500, 1000, { id: 'https://img.example.org/iiif/3/abc/', profile: 'level1', type: 'ImageService3' });
  assert.equal(regionImageUrl(canvas, { height: 1000, width: 1500 }, [100, 100, 50, 50]).url,
    'https://img.example.org/iiif/3/abc/200,200,100,100/max/0/default.jpg');
  assert.deepEqual(canvasToImagePixels([1400, 900, 500, 500], { height: 1000, width: 1500 }, { height: 2000, width: 3000 }),
    [2800, 1800, 200, 200]);
  assert.throws(() => regionImageUrl(canvas, { height: 1000, width: 1500 }, [2000, 2000, 10, 10]), /outside the image/);
});

test('Presentation 2 canvases and Image API 2 services use "full"', () => {
  const canvas = {
    '@id': 'c', height: 100, images: [{ resource: { '@id': 'i.jpg', height: 100, service: { '@context': 'http://iiif.io/api/image/2/context.json', '@id': 'https://img.example.org/iiif/2/x', profile: 'http://iiif.io/api/image/2/level1.json' }, width: 200 } }], width: 200,
  };
  assert.equal(paintedImage(canvas).service.version, 2);
  assert.equal(regionImageUrl(canvas, { height: 100, width: 200 }, [0, 0, 10, 10]).url,
    'https://img.example.org/iiif/2/x/0,0,10,10/full/0/default.jpg');
});

test('levels and missing services are reported', () => {
  assert.equal(serviceLevel({ profile: 'http://iiif.io/api/image/2/level0.json' }), 0);
  assert.equal(serviceLevel({ profile: ['http://iiif.io/api/image/2/level2.json', { formats: ['png'] }] }), 2);
  assert.equal(serviceLevel({}), 1);
  const noService = { height: 10, id: 'c', items: [{ items: [{ body: { id: 'a.jpg', type: 'Image' }, motivation: 'painting' }] }], width: 10 };
  assert.throws(() => regionImageUrl(noService, { height: 10, width: 10 }, [0, 0, 5, 5]), /no IIIF Image API service/);
});
