/**
 * @module The two pieces every body reader shares: a read that an aborted deadline cancels (and
 * that turns a failing stream into one domain error), and a chunk loop that hashes as it goes.
 */
import { blake3 } from "../blake3";
import { DecodeError } from "../domain-errors";

type CancellableReader = { cancel(reason?: unknown): Promise<void> };

/**
 * Run `read` on `reader` until it returns; aborting `signal` cancels the reader and rethrows the
 * signal's reason. Any other failure cancels the reader and becomes `translate(error)` (a
 * DecodeError passes through unchanged by default).
 */
export async function readUntilAborted<T>(reader: CancellableReader, signal: AbortSignal, read: () => Promise<T>, translate: (error: unknown) => unknown): Promise<T> {
  const onAbort = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort);
  let result: T;
  try {
    result = await read();
  } catch (error) {
    void reader.cancel(error).catch(() => {});
    if (signal.aborted) throw signal.reason;
    throw translate(error);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (signal.aborted) throw signal.reason;
  return result;
}

/** What a hashed chunk loop has read so far (still readable after it threw). */
export interface HashedChunks {
  chunks: Uint8Array[];
  total: number;
  hasher: ReturnType<ReturnType<typeof blake3>["createHasher"]>;
  /** Time spent in `hasher.update` so far. */
  hashMs: number;
}

/** Read every chunk to the end, hashing each; `check(total)` may throw to stop (a cap). */
export async function hashEveryChunk(reader: ReadableStreamDefaultReader<Uint8Array>, into: HashedChunks, check: (total: number) => void): Promise<HashedChunks> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return into;
    into.total += value.byteLength;
    check(into.total);
    const from = performance.now();
    into.hasher.update(value);
    into.hashMs += performance.now() - from;
    into.chunks.push(value);
  }
}

export const newHashedChunks = (): HashedChunks => ({ chunks: [], total: 0, hasher: blake3().createHasher(), hashMs: 0 });

/** DecodeErrors pass; anything else is `fallback()`. */
export const decodeErrorOr = (fallback: () => DecodeError) => (error: unknown) => (error instanceof DecodeError ? error : fallback());
