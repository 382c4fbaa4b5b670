/**
 * @module Reading request bodies under the hardened limits: wire bytes counted as they stream
 * (too large past `MAX_BODY_BYTES`, whatever Content-Length said), decoded bytes capped at
 * `DECOMPRESS_RATIO_CAP` × wire and `DECOMPRESS_MAX_BYTES`, corrupt encodings refused, and the
 * BLAKE3 of the decoded bytes computed on the way through. Failures are DecodeErrors (413, 400 at
 * the HTTP edge).
 */
import { joinChunks } from "../bytes";
import type { Config } from "../config";
import { DecodeError } from "../domain-errors";
import type { ContentCoding } from "./content-coding";
import { DecodedTooLarge, createDecoder } from "./decoders";
import { hashEveryChunk, newHashedChunks, readUntilAborted } from "./hashed-read";
import { readIdentityBody, wireCapError } from "./read-identity";

export interface BodyLimits {
  maxWireBytes: number;
  ratioCap: number;
  maxDecodedBytes: number;
}

export const bodyLimitsOf = (config: Config): BodyLimits => ({
  maxWireBytes: config.MAX_BODY_BYTES,
  ratioCap: config.DECOMPRESS_RATIO_CAP,
  maxDecodedBytes: config.DECOMPRESS_MAX_BYTES,
});

export interface DecodedBody {
  bytes: Uint8Array;
  /** Lowercase hex BLAKE3-256 of `bytes`. */
  hex: string;
  wireBytes: number;
  /** Time spent hashing, for Server-Timing's `hash` (0 when deployed: the clock stands still in CPU work). */
  hashMs: number;
}

/** Wire bytes handed to a decoder at a time: one slice can only inflate so far before the cap check. */
const SLICE_BYTES = 4 * 1024;

const ratioError = (limits: BodyLimits, wireBytes: number) =>
  new DecodeError("too_large", "decompress_ratio", `decoded body is more than ${limits.ratioCap}× its ${wireBytes} wire bytes`);

interface WireTally {
  bytes: number;
  over: boolean;
  /** The whole wire body has been read. */
  ended: boolean;
}

/**
 * Pump `source` into `writable` in small slices, counting wire bytes. Every promise is observed
 * here, so a failure errors the decoder (and so its reader) without unhandled rejections.
 */
function pumpWire(source: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>, cap: number, tally: WireTally): void {
  const writer = writable.getWriter();
  writer.closed.catch(() => {});
  writer.ready.catch(() => {});
  const reader = source.getReader();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        tally.bytes += value.byteLength;
        if (tally.bytes > cap) {
          tally.over = true;
          throw wireCapError(cap);
        }
        for (let at = 0; at < value.length; at += SLICE_BYTES) await writer.write(value.subarray(at, at + SLICE_BYTES));
      }
      tally.ended = true;
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
      await reader.cancel(error).catch(() => {});
    }
  })();
}

/**
 * Read, decode, cap and hash a body. `declaredWireBytes` (Content-Length, when known) tightens
 * the streaming cap for compressed bodies to ratio × declared; the ratio is checked again on
 * the final counts. Aborting `signal` stops the read and rethrows its reason.
 */
export async function readDecodedBody(
  source: ReadableStream<Uint8Array>,
  coding: ContentCoding,
  limits: BodyLimits,
  signal: AbortSignal,
  declaredWireBytes?: number,
): Promise<DecodedBody> {
  if (coding === "identity") return readIdentityBody(source, limits.maxWireBytes, signal, declaredWireBytes);
  const tally: WireTally = { bytes: 0, over: false, ended: false };
  const wireBound = Math.min(declaredWireBytes ?? limits.maxWireBytes, limits.maxWireBytes);
  const decodedCap = Math.min(limits.maxDecodedBytes, limits.ratioCap * wireBound);

  const decoder = createDecoder(coding, decodedCap);
  pumpWire(source, decoder.writable, limits.maxWireBytes, tally);
  const reader = decoder.readable.getReader();
  const read = newHashedChunks();
  await readUntilAborted(
    reader,
    signal,
    () =>
      hashEveryChunk(reader, read, (total) => {
        if (total > decodedCap) throw new DecodedTooLarge(decodedCap);
        // Once the whole wire body is in, the ratio is final: stop a bomb here, not at the cap.
        if (tally.ended && total > limits.ratioCap * tally.bytes) throw ratioError(limits, tally.bytes);
      }),
    (error) => {
      if (tally.over) return wireCapError(limits.maxWireBytes);
      if (error instanceof DecodeError) return error;
      if (error instanceof DecodedTooLarge) {
        return read.total > limits.ratioCap * tally.bytes || error.limit < limits.maxDecodedBytes
          ? ratioError(limits, tally.bytes)
          : new DecodeError("too_large", "decompress_max", `decoded body exceeds the absolute cap of ${limits.maxDecodedBytes} bytes`);
      }
      return new DecodeError("malformed", `corrupt_${coding}`, `corrupt ${coding} body: ${(error as Error)?.message ?? error}`);
    },
  );
  if (read.total > limits.ratioCap * tally.bytes) throw ratioError(limits, tally.bytes);
  const digestFrom = performance.now();
  const hex = read.hasher.digestHex();
  return { bytes: joinChunks(read.chunks, read.total), hex, wireBytes: tally.bytes, hashMs: read.hashMs + performance.now() - digestFrom };
}

/** Read a body as-is (no decoding) under the wire cap, with the BLAKE3 of the wire bytes. */
export function readWireBody(source: ReadableStream<Uint8Array>, cap: number, signal: AbortSignal): Promise<DecodedBody> {
  return readDecodedBody(source, "identity", { maxWireBytes: cap, ratioCap: 1, maxDecodedBytes: cap }, signal);
}

/** Read a body as-is (no decoding) under the wire cap, e.g. a JSON envelope. */
export async function readWireBytes(source: ReadableStream<Uint8Array>, cap: number, signal: AbortSignal): Promise<Uint8Array> {
  return (await readWireBody(source, cap, signal)).bytes;
}
