/**
 * @module Streaming decoders for request bodies, each a TransformStream from wire bytes to
 * decoded bytes. Input is fed in small slices so one slice can inflate to a bounded amount
 * (deflate expands at most ~1,032×, zstd far more), and the zstd decoder stops itself at
 * `maxOutput`, so a bomb is never inflated into memory.
 */
import { Decompress } from "fzstd";
import type { ContentCoding } from "./content-coding";

/** Wire bytes handed to a decoder at a time. */
const SLICE_BYTES = 4 * 1024;

/** Thrown inside a decoder when its output passes the cap. */
export class DecodedTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`decoded body exceeds ${limit} bytes`);
  }
}

function slicer(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) controller.enqueue(chunk.subarray(at, at + SLICE_BYTES));
    },
  });
}

/** zstd via fzstd (pure JS, streaming): workerd's DecompressionStream has no zstd. */
function zstdDecoder(maxOutput: number): TransformStream<Uint8Array, Uint8Array> {
  let produced = 0;
  let decoder: Decompress;
  return new TransformStream({
    start(controller) {
      decoder = new Decompress((chunk) => {
        produced += chunk.length;
        if (produced > maxOutput) throw new DecodedTooLarge(maxOutput);
        // fzstd may reuse its window buffer, so hand on a copy.
        controller.enqueue(chunk.slice());
      });
    },
    transform(chunk) {
      decoder.push(chunk);
    },
    flush() {
      decoder.push(new Uint8Array(0), true);
    },
  });
}

/** Decoded bytes of `wire` under `coding`; identity passes through. */
export function decodeStream(wire: ReadableStream<Uint8Array>, coding: ContentCoding, maxOutput: number): ReadableStream<Uint8Array> {
  switch (coding) {
    case "identity":
      return wire;
    case "gzip":
      return wire.pipeThrough(slicer()).pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    case "zstd":
      return wire.pipeThrough(slicer()).pipeThrough(zstdDecoder(maxOutput));
  }
}
