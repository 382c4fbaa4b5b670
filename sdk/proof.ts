/**
 * @module Checking a verified slice (`GET /o/<address>?proof=1`, docs/OBJECTS.md) against the
 * address, in plain TypeScript: BLAKE3's tree from shared/blake3 over its scalar lanes (no WASM),
 * so it runs the same in browsers, Node 20 and workers.
 */
import { ScalarLanes } from "../shared/blake3/lanes";
import { Blake3TreeEngine, type Blake3Tree } from "../shared/blake3/tree-engine";
import { verifySlice as verifyWith, type VerifiedSliceBytes } from "../shared/store/slice";

export { SLICE_MEDIA_TYPE, SliceError, type SliceFault, type VerifiedSliceBytes } from "../shared/store/slice";
export type { Blake3Tree } from "../shared/blake3/tree-engine";

let engine: Blake3TreeEngine | undefined;

const ADDRESS = /^b3:([0-9a-f]{64})$/;

function rootOf(address: string): Uint8Array {
  const hex = ADDRESS.exec(address)?.[1];
  if (!hex) throw new TypeError(`expected an address b3:<64 lowercase hex>, got ${JSON.stringify(address)}`);
  return Uint8Array.from({ length: 32 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

/**
 * The bytes a slice proves to be bytes `start..end` (exclusive) of the object `address`; throws
 * SliceError (`reason`: malformed, length, range, mismatch) for anything else. With `expected`,
 * the slice must hold exactly that range. `tree` swaps in a faster BLAKE3 (the SIMD engine of
 * shared/blake3 where WASM can be loaded); the default is plain TypeScript, about 30 MiB/s.
 */
export function verifySlice(address: string, slice: Uint8Array, expected?: { start: number; end: number }, options: { tree?: Blake3Tree } = {}): VerifiedSliceBytes {
  engine ??= new Blake3TreeEngine(new ScalarLanes());
  return verifyWith(options.tree ?? engine, rootOf(address), slice, expected);
}
