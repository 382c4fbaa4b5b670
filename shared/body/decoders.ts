/**
 * @module Streaming decoders for request bodies, each a TransformStream from wire bytes to
 * decoded bytes. Input is fed in small slices and every decoder stops itself once its output
 * passes `maxOutput`, so a bomb is never inflated into memory.
 *
 * Both use the runtime's native zlib/zstd through `node:zlib` (nodejs_compat), which checks the
 * gzip CRC and is the fastest decoder in workerd. Not DecompressionStream: on corrupt input it
 * leaks an unhandled rejection even when every promise is observed, and it has no zstd
 * (workerd 2026-04-26).
 */
import { createGunzip, createZstdDecompress, type Gunzip } from "node:zlib";
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

type NodeDecoder = Gunzip;

/** Wrap a node:zlib decompressor as a TransformStream whose output stops at `maxOutput` bytes. */
function capped(create: () => NodeDecoder, maxOutput: number): TransformStream<Uint8Array, Uint8Array> {
  let decoder: NodeDecoder;
  let produced = 0;
  let failure: Error | null = null;
  return new TransformStream({
    start(controller) {
      decoder = create();
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

const gzipDecoder = (maxOutput: number) => capped(() => createGunzip(), maxOutput);
const zstdDecoder = (maxOutput: number) => capped(() => createZstdDecompress() as unknown as NodeDecoder, maxOutput);

/**
 * `readable` pumped through `transform` by hand. Unlike `pipeThrough`, every promise of the
 * pump is observed here: a failure still errors the returned stream (the reader sees it), but
 * never surfaces as an unhandled rejection from workerd's native streams.
 */
export function through<I, O>(readable: ReadableStream<I>, transform: { writable: WritableStream<I>; readable: ReadableStream<O> }): ReadableStream<O> {
  const writer = transform.writable.getWriter();
  writer.closed.catch(() => {});
  writer.ready.catch(() => {});
  const reader = readable.getReader();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await writer.write(value);
      }
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
      await reader.cancel(error).catch(() => {});
    }
  })();
  return transform.readable;
}

/** Decoded bytes of `wire` under `coding`; identity passes through. */
export function decodeStream(wire: ReadableStream<Uint8Array>, coding: ContentCoding, maxOutput: number): ReadableStream<Uint8Array> {
  switch (coding) {
    case "identity":
      return wire;
    case "gzip":
      return through(through(wire, slicer()), gzipDecoder(maxOutput));
    case "zstd":
      return through(through(wire, slicer()), zstdDecoder(maxOutput));
  }
}
