/**
 * @module BLAKE3 for code running in workerd: the WASM is imported as a compiled module
 * (wrangler bundles `*.wasm` imports that way), because workerd forbids compiling WASM from bytes.
 */
import blake3SimdWasm from "./blake3-simd.wasm";
import blake3Wasm from "./blake3.wasm";
import { Blake3Engine } from "./engine";
import { SimdLanes } from "./simd-lanes";
import { Blake3TreeEngine } from "./tree-engine";

export { Blake3Engine, Blake3Hasher, toHex } from "./engine";
export { Blake3TreeEngine, Blake3StreamHasher } from "./tree-engine";
export type { Blake3Tree } from "./tree-engine";

let engine: Blake3Engine | undefined;
let hashWasmEngine: Blake3Engine | undefined;
let treeEngine: Blake3TreeEngine | undefined;

/** The isolate's shared engine, instantiated on first use (about 1 ms). */
export function blake3(): Blake3Engine {
  engine ??= new Blake3Engine(blake3Wasm);
  return engine;
}

/** The fastest BLAKE3 engine with the tree exposed (WASM SIMD128), one per isolate. */
export function blake3Tree(): Blake3TreeEngine {
  treeEngine ??= new Blake3TreeEngine(new SimdLanes(blake3SimdWasm));
  return treeEngine;
}

/** hash-wasm's BLAKE3 module: the second implementation for tests and the benchmark baseline. */
export function blake3HashWasm(): Blake3Engine {
  hashWasmEngine ??= new Blake3Engine(blake3Wasm);
  return hashWasmEngine;
}
