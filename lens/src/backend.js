/**
 * The fastest TensorFlow.js backend this device has, for the recognizer:
 * WebGPU, then WebGL on a real GPU (phones), then WASM, then the CPU. WebGL drawn by software
 * (SwiftShader, llvmpipe: headless browsers, machines without a GPU) is passed over: measured
 * on 2 cores, WASM ran from 2.5x to 14x faster than it.
 *
 *   import * as tf from '@tensorflow/tfjs';
 *   import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
 *   setWasmPaths(wasmBaseUrl());          // the .wasm files the build copies beside the app
 *   const backend = await pickBackend(tf);
 *
 * (engine.js does this for the app.)
 */

export const ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'];
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The WebGL renderer's name, or null without WebGL. */
export function webglRenderer(doc = globalThis.document) {
  try {
    const canvas = doc.createElement('canvas');
    const gl = canvas.getContext('webgl2') || canvas.getContext('webgl');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) || '');
  } catch {
    return null;
  }
}

/** The backends worth trying here, fastest first. */
export function candidates(registered, { gpu = Boolean(globalThis.navigator && globalThis.navigator.gpu),
  renderer = webglRenderer() } = {}) {
  return ORDER.filter((name) => registered.includes(name)).filter((name) => {
    if (name === 'webgpu') return gpu;
    if (name === 'webgl') return renderer !== null && !SOFTWARE_RENDERER.test(renderer);
    return true;
  });
}

/** Switches ``tf`` to the first backend that initialises; returns its name. */
export async function pickBackend(tf, options = {}) {
  const registered = ORDER.filter((name) => tf.findBackendFactory(name));
  for (const name of candidates(registered, options)) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // next one
    }
  }
  throw new Error(`no TensorFlow.js backend initialised (registered: ${registered.join(', ') || 'none'})`);
}

/** Where the build puts the WASM backend's .wasm files: beside the app's scripts (/lens/_app/). */
export function wasmBaseUrl(scriptUrl = import.meta.url) {
  return new URL('./', scriptUrl).href;
}
