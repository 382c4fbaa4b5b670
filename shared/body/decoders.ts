/**
 * @module Streaming decoders for request bodies: a TransformStream from wire bytes to decoded
 * bytes that stops itself once its output passes `maxOutput`, so a bomb is never inflated into
 * memory.
 *
 * Both use the runtime's native zlib/zstd through `node:zlib` (nodejs_compat), which checks the
 * gzip CRC and is the fastest decoder in workerd. Not DecompressionStream: on corrupt input it
 * leaks an unhandled rejection even when every promise is observed, and it has no zstd
 * (workerd 2026-04-26). docs/DECISIONS.md has the details.
 */
import type { Gunzip } from "node:zlib";

/**
 * node:zlib, imported on the first encoded body rather than at startup: importing it evaluates
 * workerd's zlib and stream modules, a few ms of every isolate's startup (docs/PERFORMANCE.md).
 */
let zlib: Promise<typeof import("node:zlib")> | undefined;
const loadZlib = () => (zlib ??= import("node:zlib"));

/** Thrown inside a decoder when its output passes the cap. */
export class DecodedTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`decoded body exceeds ${limit} bytes`);
  }
}

type NodeDecoder = Gunzip;
export type Coding = "gzip" | "zstd";

/** A node:zlib decompressor as a TransformStream whose output stops at `maxOutput` bytes. */
export function createDecoder(coding: Coding, maxOutput: number): TransformStream<Uint8Array, Uint8Array> {
  let decoder: NodeDecoder;
  let produced = 0;
  let failure: Error | null = null;
  return new TransformStream({
    async start(controller) {
      const { createGunzip, createZstdDecompress } = await loadZlib();
      decoder = coding === "gzip" ? createGunzip() : (createZstdDecompress() as unknown as NodeDecoder);
      decoder.on("data", (chunk: Uint8Array) => {
        if (failure) return;
        produced += chunk.length;
        if (produced > maxOutput) {
          failure = new DecodedTooLarge(maxOutput);
          controller.error(failure);
          decoder.destroy();
          return;
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      decoder.on("error", (error: Error) => {
        if (failure) return;
        failure = error;
        controller.error(error);
      });
    },
    transform(chunk) {
      if (failure) return;
      // resolve once zlib has taken the chunk, so input never runs far ahead of output
      return new Promise<void>((resolve) => decoder.write(chunk, () => resolve()));
    },
    flush() {
      if (failure) return;
      return new Promise<void>((resolve) => {
        decoder.once("end", () => resolve());
        decoder.once("error", () => resolve()); // the error handler above already errored the stream
        decoder.once("close", () => resolve());
        decoder.end();
      });
    },
  });
}
