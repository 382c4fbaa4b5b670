/**
 * @module hash-wasm's BLAKE3 module in workerd: the second implementation the tests check the SIMD
 * engine against, and the benchmark's baseline. No service code imports it, so workers that do
 * not need it do not bundle its WASM.
 */
import blake3Wasm from "./blake3.wasm";
import { Blake3Engine } from "./engine";

let engine: Blake3Engine | undefined;

export function blake3HashWasm(): Blake3Engine {
  engine ??= new Blake3Engine(blake3Wasm);
  return engine;
}
