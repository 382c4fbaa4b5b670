/**
 * @module BLAKE3 for code running in workerd: the WASM is imported as a compiled module
 * (wrangler bundles `*.wasm` imports that way), because workerd forbids compiling WASM from bytes.
 */
import blake3Wasm from "./blake3.wasm";
import { Blake3Engine } from "./engine";

export { Blake3Engine, Blake3Hasher, toHex } from "./engine";

let engine: Blake3Engine | undefined;

/** The isolate's shared engine, instantiated on first use (about 1 ms). */
export function blake3(): Blake3Engine {
  engine ??= new Blake3Engine(blake3Wasm);
  return engine;
}
