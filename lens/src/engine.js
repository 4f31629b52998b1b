/**
 * What the app loads as ./recognizer.js (the build makes dist/recognizer.js from this file):
 * TensorFlow.js on the fastest backend there is, with the WASM backend's files beside the
 * app, and OpenCV.js once its WebAssembly is running, handed to the recognizer of
 * src/recognizer.js. The same interface as that one (lens/BUNDLE.md):
 * ``createRecognizer(bundleBaseUrl, bundleJson)`` -> {recognize(imageOrCanvas) -> decision}.
 */

import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import opencv from '@techstark/opencv-js';

import { pickBackend, wasmBaseUrl } from './backend.js';
import { createRecognizer as recognizerFor } from './recognizer.js';

let runtime = null;

/** OpenCV.js once its runtime is ready (the package hands out a module, or a promise of one). */
async function openCv(module) {
  if (module && typeof module.then === 'function') {
    const resolved = await module;
    return resolved;
  }
  if (module.Mat) return module;
  await new Promise((resolve) => { module.onRuntimeInitialized = resolve; });
  return module;
}

/** {tf, cv, backend}, started once. */
export function ready() {
  if (!runtime) {
    runtime = (async () => {
      setWasmPaths(wasmBaseUrl(import.meta.url));
      const backend = await pickBackend(tf);
      const cv = await openCv(opencv);
      return { tf, cv, backend };
    })();
  }
  return runtime;
}

export async function createRecognizer(bundleBaseUrl, bundle, options = {}) {
  const { cv, backend } = await ready();
  const recognizer = await recognizerFor(bundleBaseUrl, bundle, { tf, cv, ...options });
  if (recognizer && recognizer.backend === undefined) recognizer.backend = backend;
  return recognizer;
}
