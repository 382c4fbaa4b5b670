/**
 * @module Decoding a whole encoded body (gzip, zstd) under an output cap, so a bomb is never
 * inflated past it.
 *
 * The runtime's native zlib/zstd through `node:zlib` (nodejs_compat), which checks the gzip CRC
 * and is the fastest decoder in workerd. Not DecompressionStream: on corrupt input it leaks an
 * unhandled rejection even when every promise is observed, and it has no zstd (workerd
 * 2026-04-26). docs/DECISIONS.md has the details.
 *
 * The one-shot `*Sync` calls, on a wire body already read under MAX_BODY_BYTES, not node:zlib's
 * streams: in workerd a streaming decompressor's output stays allocated for good (measured 1.2–1.5
 * MiB of RSS per 1 MiB body decoded, zstd and gzip alike, with close() or destroy() or not; a
 * soak's RSS grew ~32 KiB per mixed request), while the one-shot calls' memory is reused (RSS
 * flat after the first few hundred bodies). docs/PERFORMANCE.md, *Soak*, has the measurements.
 */

/**
 * node:zlib, imported on the first encoded body rather than at startup: importing it evaluates
 * workerd's zlib and stream modules, a few ms of every isolate's startup (docs/PERFORMANCE.md).
 */
let zlib: Promise<typeof import("node:zlib")> | undefined;
const loadZlib = () => (zlib ??= import("node:zlib"));

/** The decoded body would pass the cap. */
export class DecodedTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`decoded body exceeds ${limit} bytes`);
  }
}

export type Coding = "gzip" | "zstd";

/**
 * Decode `input` whole, stopping once the output passes `maxOutput` bytes (DecodedTooLarge).
 * Corrupt input throws the decoder's own error.
 */
export async function decodeWhole(coding: Coding, input: Uint8Array, maxOutput: number): Promise<Uint8Array> {
  const { gunzipSync, zstdDecompressSync } = await loadZlib();
  // node:zlib takes a limit of at least 1; a cap of 0 is checked on the result below
  const options = { maxOutputLength: Math.max(1, maxOutput) };
  let out: Uint8Array;
  try {
    out = coding === "gzip" ? gunzipSync(input, options) : zstdDecompressSync(input, options);
  } catch (error) {
    // past maxOutputLength the decoder stops and throws ERR_BUFFER_TOO_LARGE (a RangeError)
    if ((error as { code?: string })?.code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) throw new DecodedTooLarge(maxOutput);
    throw error;
  }
  if (out.byteLength > maxOutput) throw new DecodedTooLarge(maxOutput);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
