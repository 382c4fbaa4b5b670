/**
 * @module A stream re-cut into chunks of exactly `chunkBytes` (the last may be shorter), so tree
 * pieces stay aligned whatever sizes the source hands over. A byte stream is read with a BYOB
 * reader straight into each chunk (no copy); any other stream is copied into it.
 */

/** Reads at most `chunkBytes` ahead of the consumer: one chunk being filled, none queued. */
export class ExactChunkReader {
  readonly #byob: ReadableStreamBYOBReader | null;
  readonly #plain: ReadableStreamDefaultReader<Uint8Array> | null;
  /** Bytes a default reader handed over beyond the last chunk. */
  #left: Uint8Array = new Uint8Array(0);
  #ended = false;

  constructor(source: ReadableStream<Uint8Array>, private readonly chunkBytes: number) {
    let byob: ReadableStreamBYOBReader | null = null;
    try {
      byob = source.getReader({ mode: "byob" });
    } catch {
      // not a byte stream
    }
    this.#byob = byob;
    this.#plain = byob ? null : source.getReader();
  }

  /** The next chunk: `chunkBytes` long unless the stream ended first; empty once it has ended. */
  async next(): Promise<Uint8Array> {
    if (this.#ended) return new Uint8Array(0);
    return this.#byob ? this.#nextByob(this.#byob) : this.#nextPlain(this.#plain!);
  }

  async cancel(reason?: unknown): Promise<void> {
    await (this.#byob ?? this.#plain)!.cancel(reason).catch(() => {});
  }

  async #nextByob(reader: ReadableStreamBYOBReader): Promise<Uint8Array> {
    let buffer = new ArrayBuffer(this.chunkBytes);
    let at = 0;
    while (at < this.chunkBytes) {
      const result = await reader.readAtLeast(this.chunkBytes - at, new Uint8Array(buffer, at, this.chunkBytes - at));
      if (result.value) {
        buffer = result.value.buffer as ArrayBuffer; // the read transferred it
        at += result.value.byteLength;
      }
      if (result.done) {
        this.#ended = true;
        break;
      }
    }
    return new Uint8Array(buffer, 0, at);
  }

  async #nextPlain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
    const out = new Uint8Array(this.chunkBytes);
    let at = 0;
    for (;;) {
      if (this.#left.length > 0) {
        const take = Math.min(this.#left.length, this.chunkBytes - at);
        out.set(this.#left.subarray(0, take), at);
        this.#left = this.#left.subarray(take);
        at += take;
      }
      if (at === this.chunkBytes) return out;
      const { done, value } = await reader.read();
      if (done) {
        this.#ended = true;
        return out.subarray(0, at);
      }
      this.#left = value;
    }
  }
}
