/**
 * @module BLAKE3 for Node scripts (load driver, benchmarks, CLIs): the same engine, with the
 * WASM read from disk. Node itself has no BLAKE3 digest.
 */
import { readFileSync } from "node:fs";
import { Blake3Engine } from "./engine";

export { Blake3Engine, Blake3Hasher, toHex } from "./engine";

let engine: Blake3Engine | undefined;

export function blake3(): Blake3Engine {
  engine ??= new Blake3Engine(new WebAssembly.Module(readFileSync(new URL("./blake3.wasm", import.meta.url))));
  return engine;
}
