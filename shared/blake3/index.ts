/**
 * @module BLAKE3 for code running in workerd: the WASM is imported as a compiled module
 * (wrangler bundles `*.wasm` imports that way), because workerd forbids compiling WASM from bytes.
 */
import blake3SimdWasm from "./blake3-simd.wasm";
import { SimdLanes } from "./simd-lanes";
import { Blake3TreeEngine } from "./tree-engine";

export { Blake3Engine, Blake3Hasher } from "./engine";
export { Blake3TreeEngine, Blake3StreamHasher, toHex } from "./tree-engine";
export type { Blake3Tree } from "./tree-engine";

let treeEngine: Blake3TreeEngine | undefined;

/**
 * The isolate's BLAKE3 for every caller: the SIMD engine (`blake3Tree()`), which hashes 1.7–2.6×
 * faster than hash-wasm's module (docs/PERFORMANCE.md) with the same `hash`/`hashHex`/`createHasher` API.
 */
export function blake3(): Blake3TreeEngine {
  return blake3Tree();
}

/** The fastest BLAKE3 engine with the tree exposed (WASM SIMD128), one per isolate. */
export function blake3Tree(): Blake3TreeEngine {
  treeEngine ??= new Blake3TreeEngine(new SimdLanes(blake3SimdWasm));
  return treeEngine;
}
