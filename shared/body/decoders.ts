/**
 * @module Streaming decoders for request bodies, each a TransformStream from wire bytes to
 * decoded bytes. Input is fed in small slices and every decoder stops itself once its output
 * passes `maxOutput`, so a bomb is never inflated into memory.
 *
 * gzip uses fflate rather than workerd's DecompressionStream: on corrupt input the native
 * stream leaks an unhandled rejection even when every promise is observed (workerd
 * 2026-04-26), and workerd has no zstd DecompressionStream at all (fzstd fills that gap).
 */
import { Gunzip } from "fflate";
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

/** The push-style decoders both libraries offer: output arrives through a callback. */
interface PushDecoder {
  push(chunk: Uint8Array, final?: boolean): void;
}

/** Wrap a push decoder as a TransformStream whose output stops at `maxOutput` bytes. */
function capped(create: (emit: (chunk: Uint8Array) => void) => PushDecoder, maxOutput: number): TransformStream<Uint8Array, Uint8Array> {
  let produced = 0;
  let decoder: PushDecoder;
  // error() rather than throw: a throw also rejects the runtime's internal pipe promise.
  const run = (controller: TransformStreamDefaultController<Uint8Array>, step: () => void) => {
    try {
      step();
    } catch (error) {
      controller.error(error);
    }
  };
  return new TransformStream({
    start(controller) {
      decoder = create((chunk) => {
        produced += chunk.length;
        if (produced > maxOutput) throw new DecodedTooLarge(maxOutput);
        // the decoders may reuse their window buffers, so hand on a copy
        controller.enqueue(chunk.slice());
      });
    },
    transform(chunk, controller) {
      run(controller, () => decoder.push(chunk));
    },
    flush(controller) {
      run(controller, () => decoder.push(new Uint8Array(0), true));
    },
  });
}

const gzipDecoder = (maxOutput: number) => capped((emit) => new Gunzip((chunk) => emit(chunk)), maxOutput);
const zstdDecoder = (maxOutput: number) => capped((emit) => new Decompress((chunk) => emit(chunk)), maxOutput);

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
