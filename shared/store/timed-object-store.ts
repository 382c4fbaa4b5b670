/**
 * @module An object store whose calls are timed as `store` in the request's Server-Timing
 * (whichever strategy backs it: R2 or the amnesia Durable Object), so a response shows
 * whether, and how long, it waited on the store.
 */
import type { RequestTiming } from "../timing";
import type { ObjectInfo, ObjectStore, PeekedObject, PutOutcome, StoreHealth, StoredObject, StreamedPut } from "./object-store";

export class TimedObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly timing: RequestTiming,
  ) {}

  get kind(): ObjectStore["kind"] {
    return this.inner.kind;
  }

  head(hex: string): Promise<ObjectInfo | null> {
    return this.timing.measure("store", this.inner.head(hex));
  }

  peek(hex: string, inlineBytes: number): Promise<PeekedObject | null> {
    return this.timing.measure("store", this.inner.peek(hex, inlineBytes));
  }

  get(hex: string): Promise<StoredObject | null> {
    return this.timing.measure("store", this.inner.get(hex));
  }

  getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.timing.measure("store", this.inner.getRange(hex, offset, length));
  }

  put(hex: string, bytes: Uint8Array, contentType: string): Promise<PutOutcome> {
    return this.timing.measure("store", this.inner.put(hex, bytes, contentType));
  }

  /** Opening the stream is timed; its reads happen while the response is sent. */
  readStream(hex: string, offset: number, length: number): Promise<ReadableStream<Uint8Array> | null> {
    return this.timing.measure("store", this.inner.readStream(hex, offset, length));
  }

  putStream(hex: string, upload: StreamedPut): Promise<PutOutcome> {
    return this.timing.measure("store", this.inner.putStream(hex, upload));
  }

  getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null> {
    return this.timing.measure("store", this.inner.getOutboard(hex, offset, length));
  }

  putOutboard(hex: string, outboard: Uint8Array): Promise<boolean> {
    return this.timing.measure("store", this.inner.putOutboard(hex, outboard));
  }

  health(): Promise<StoreHealth> {
    return this.timing.measure("store", this.inner.health());
  }
}
