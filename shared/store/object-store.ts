/**
 * @module The content-addressed object store seam. Two strategies implement it: R2
 * (persistent) and the RAM-only amnesia store (a Durable Object holding bytes in memory).
 * Keys are the 64-hex BLAKE3 of the bytes; objects are immutable and written once.
 */

export interface ObjectInfo {
  size: number;
  contentType: string;
}

export interface StoredObject extends ObjectInfo {
  bytes: Uint8Array;
}

/** What `peek` finds: size and type, and the whole object's bytes when it is small. */
export interface PeekedObject extends ObjectInfo {
  /** The whole object (unverified) when its size is at most the asked `inlineBytes`, else null. */
  bytes: Uint8Array | null;
}

export type PutOutcome =
  | { status: "created" }
  | { status: "existing" }
  /** The store's byte budget (the amnesia store: the budget of `shard`, the shard the address picks) cannot take this object; nothing was written. */
  | { status: "full"; usedBytes: number; budgetBytes: number; shard?: string };

export interface StoreHealth {
  usable: boolean;
  /** For bounded stores: bytes held and the budget. */
  usedBytes?: number;
  budgetBytes?: number;
  /** For a store split over shards: how many, and the one with the least room (a write routed there is refused first). */
  shards?: { count: number; fullest: { name: string; usedBytes: number; budgetBytes: number } };
  detail?: string;
}

/** An upload streamed into a store: `body` errors (before its last byte) if it must not be stored. */
export interface StreamedPut {
  size: number;
  contentType: string;
  body: ReadableStream<Uint8Array>;
  /** Length of the outboard, known up front (budgets); `outboard()` once `body` has ended cleanly. */
  outboardBytes: number;
  outboard(): Uint8Array;
}

export interface ObjectStore {
  readonly kind: "r2" | "amnesia";
  /** Size and type without reading the bytes; null when absent. */
  head(hex: string): Promise<ObjectInfo | null>;
  /** `head` in the same call as a read of a small object: one round trip for the common GET. */
  peek(hex: string, inlineBytes: number): Promise<PeekedObject | null>;
  /** The stored bytes as they are (callers verify them against the address). */
  get(hex: string): Promise<StoredObject | null>;
  /** `length` bytes from `offset` (fewer at the end); null when absent. Not verified: see verified-read. */
  getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Store `bytes` under `hex` unless present. Atomic: concurrent puts of one object create it once. */
  put(hex: string, bytes: Uint8Array, contentType: string): Promise<PutOutcome>;
  /** `length` bytes from `offset` as a stream (fewer at the end); null when absent. Not verified. */
  readStream(hex: string, offset: number, length: number): Promise<ReadableStream<Uint8Array> | null>;
  /**
   * Stream `upload` in under `hex` unless present. Atomic: when its body errors nothing is
   * readable under any key, and the outboard is written only after the body is in.
   */
  putStream(hex: string, upload: StreamedPut): Promise<PutOutcome>;
  /** `length` bytes of the object's outboard from `offset`; null when it has none (yet). Not verified. */
  getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Keep an outboard built for an object stored without one; false when the store did not (budget, or one is there already: the first stays). */
  putOutboard(hex: string, outboard: Uint8Array): Promise<boolean>;
  health(): Promise<StoreHealth>;
}
