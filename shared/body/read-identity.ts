/**
 * @module Reading an identity (uncoded) body under the wire cap, hashing each read as it lands.
 * A byte stream (request bodies, Blob streams) is read with a BYOB reader, at least 64 KiB a
 * read (workerd's `readAtLeast`), into buffers sized from Content-Length: a body that matches
 * its Content-Length lands in one buffer and is never copied, and needs no extra read to see
 * its end. A default reader hands over 4 KiB chunks, one promise each, which cost more than
 * hashing them (docs/PERFORMANCE.md).
 *
 * Whatever Content-Length says, no more than cap + 1 bytes are ever read, and a buffer never runs
 * ahead of the bytes received by more than 1 MiB or their own size, so a false large
 * Content-Length reserves little.
 */
import { blake3 } from "../blake3";
import { joinChunks } from "../bytes";
import { DecodeError } from "../domain-errors";
import { decodeErrorOr, hashEveryChunk, newHashedChunks, readUntilAborted } from "./hashed-read";
import type { DecodedBody } from "./read-body";

/** The smallest read handed back (unless the body ends first): few promises, hashing still interleaved. */
const READ_AT_LEAST = 64 * 1024;
/** The most reserved ahead of the bytes received, beyond their own size. */
const AHEAD_BYTES = 1024 * 1024;
/** Growth step when the length is unknown (no Content-Length, or the body ran past it). */
const UNKNOWN_STEP = 64 * 1024;
/** Unused room a single buffer may keep instead of being copied to size. */
const SLACK_BYTES = 4 * 1024;

export const wireCapError = (cap: number) => new DecodeError("too_large", "body_cap", `body exceeds the ${cap}-byte cap`);
const unreadable = () => new DecodeError("unreadable", "body_read", "request body could not be read");

/** Size of the next buffer once `filled` bytes are in. */
function nextBufferSize(filled: number, cap: number, declared: number | undefined): number {
  const left = cap + 1 - filled; // one byte past the cap is enough to know it is over
  // one byte of room past the declared length: a read that fills it shows Content-Length understated
  if (declared !== undefined && filled <= declared) return Math.min(left, declared + 1 - filled, Math.max(AHEAD_BYTES, filled));
  return Math.min(left, Math.max(UNKNOWN_STEP, filled));
}

/** The segments as one array: the only segment itself unless it leaves much of its buffer unused. */
function assemble(segments: Uint8Array[], total: number): Uint8Array {
  const only = segments.length === 1 ? segments[0]! : null;
  if (only) return only.buffer.byteLength - only.byteLength <= SLACK_BYTES ? only : only.slice();
  return joinChunks(segments, total);
}

/**
 * Read `source` as-is under `cap` with its BLAKE3 (`hex` is "" with `hash: false`, for bytes that
 * are decoded before they are addressed); aborting `signal` stops the read and rethrows its reason.
 */
export async function readIdentityBody(source: ReadableStream<Uint8Array>, cap: number, signal: AbortSignal, declared?: number, { hash = true } = {}): Promise<DecodedBody> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = source.getReader({ mode: "byob" });
  } catch {
    return readChunks(source, cap, signal); // not a byte stream
  }
  const hasher = hash ? blake3().createHasher() : null;
  const segments: Uint8Array[] = [];
  let filled = 0;
  let hashMs = 0;
  await readUntilAborted(reader, signal, async () => {
    for (let done = false; !done; ) {
      let buffer = new ArrayBuffer(nextBufferSize(filled, cap, declared));
      let at = 0;
      while (at < buffer.byteLength) {
        const room = buffer.byteLength - at;
        const least = Math.min(room, READ_AT_LEAST);
        const result = await reader.readAtLeast(least, new Uint8Array(buffer, at, room));
        const got = result.value?.byteLength ?? 0;
        if (result.value) {
          buffer = result.value.buffer as ArrayBuffer; // the read transferred it
          if (hasher) {
            const from = performance.now();
            hasher.update(result.value);
            hashMs += performance.now() - from;
          }
          at += got;
        }
        // readAtLeast comes back short only at the end of the stream; a body that ends exactly at
        // its Content-Length is then whole (one read fewer; anything else reads on to `done`)
        if (result.done || (got < least && filled + at === declared)) {
          done = true;
          break;
        }
      }
      if (at > 0) segments.push(new Uint8Array(buffer, 0, at));
      filled += at;
      if (filled > cap) throw wireCapError(cap);
    }
  }, decodeErrorOr(unreadable));
  const digestFrom = performance.now();
  const hex = hasher?.digestHex() ?? "";
  return { bytes: assemble(segments, filled), hex, wireBytes: filled, hashMs: hashMs + performance.now() - digestFrom };
}

/** A stream that is not a byte stream: its chunks as they come, joined once. */
async function readChunks(source: ReadableStream<Uint8Array>, cap: number, signal: AbortSignal): Promise<DecodedBody> {
  const reader = source.getReader();
  const read = await readUntilAborted(reader, signal, () => hashEveryChunk(reader, newHashedChunks(), (total) => {
    if (total > cap) throw wireCapError(cap);
  }), decodeErrorOr(unreadable));
  const digestFrom = performance.now();
  const hex = read.hasher.digestHex();
  return { bytes: joinChunks(read.chunks, read.total), hex, wireBytes: read.total, hashMs: read.hashMs + performance.now() - digestFrom };
}
