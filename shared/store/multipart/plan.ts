/**
 * @module The layout of a multipart upload: how big its parts are and what each one must hold.
 * A part is a power of two of bytes (≥ 8 MiB and ≥ the verify group), so every full part is a
 * whole BLAKE3 subtree at a chunk counter that is a multiple of its own size, and its CV combines
 * with the others' exactly as BLAKE3's own tree does (docs/OBJECTS.md, Multipart).
 */
import { CHUNK_BYTES } from "../outboard";

/** The smallest part size: R2 wants every part but the last ≥ 5 MiB; 8 MiB is the next power of two. */
export const MIN_PART_BYTES = 8 * 1024 * 1024;
/** Most parts an upload may have (R2's limit too): larger objects get larger parts. */
export const MAX_PARTS = 10_000;

export interface PartLayout {
  size: number;
  partBytes: number;
  parts: number;
}

/** Parts of `partBytes` for an object of `size`: the least power of two ≥ `minPartBytes` and `groupBytes` that keeps them ≤ MAX_PARTS. */
export function partLayout(size: number, minPartBytes: number, groupBytes: number): PartLayout {
  let partBytes = Math.max(MIN_PART_BYTES, minPartBytes, groupBytes);
  while (Math.ceil(size / partBytes) > MAX_PARTS) partBytes *= 2;
  return { size, partBytes, parts: partCount(size, partBytes) };
}

/** At least one part: an empty object is one empty part. */
export const partCount = (size: number, partBytes: number) => Math.max(1, Math.ceil(size / partBytes));

/** Bytes part `n` (from 1) must hold: `partBytes`, the last one the rest. */
export function partLength(layout: PartLayout, n: number): number {
  return n < layout.parts ? layout.partBytes : layout.size - (layout.parts - 1) * layout.partBytes;
}

/** The chunk counter part `n` starts at. */
export const partFirstChunk = (layout: PartLayout, n: number) => ((n - 1) * layout.partBytes) / CHUNK_BYTES;
