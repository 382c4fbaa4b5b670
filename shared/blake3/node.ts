/**
 * @module BLAKE3 for Node scripts (load driver, benchmarks, CLIs): the same engine, with the
 * WASM read from disk. Node itself has no BLAKE3 digest.
 */
import { readFileSync } from "node:fs";
import { Blake3Engine } from "./engine";
import { SimdLanes } from "./simd-lanes";
import { Blake3TreeEngine } from "./tree-engine";

export { Blake3Engine, Blake3Hasher, toHex } from "./engine";
export { Blake3TreeEngine, Blake3StreamHasher } from "./tree-engine";
export type { Blake3Tree } from "./tree-engine";

let engine: Blake3Engine | undefined;

export function blake3(): Blake3Engine {
  engine ??= new Blake3Engine(new WebAssembly.Module(readFileSync(new URL("./blake3.wasm", import.meta.url))));
  return engine;
}

let treeEngine: Blake3TreeEngine | undefined;

/** The BLAKE3 engine with the tree exposed (the same as in workerd). */
export function blake3Tree(): Blake3TreeEngine {
  treeEngine ??= new Blake3TreeEngine(new SimdLanes(new WebAssembly.Module(readFileSync(new URL("./blake3-simd.wasm", import.meta.url)))));
  return treeEngine;
}
