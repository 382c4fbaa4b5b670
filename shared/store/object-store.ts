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

export type PutOutcome =
  | { status: "created" }
  | { status: "existing" }
  /** The store's byte budget cannot take this object; nothing was written. */
  | { status: "full"; usedBytes: number; budgetBytes: number };

export interface StoreHealth {
  usable: boolean;
  /** For bounded stores: bytes held and the budget. */
  usedBytes?: number;
  budgetBytes?: number;
  detail?: string;
}

export interface ObjectStore {
  readonly kind: "r2" | "amnesia";
  /** Size and type without reading the bytes; null when absent. */
  head(hex: string): Promise<ObjectInfo | null>;
  /** The stored bytes as they are (callers verify them against the address). */
  get(hex: string): Promise<StoredObject | null>;
  /** `length` bytes from `offset` (fewer at the end); null when absent. Not verified: see verified-read. */
  getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Store `bytes` under `hex` unless present. Atomic: concurrent puts of one object create it once. */
  put(hex: string, bytes: Uint8Array, contentType: string): Promise<PutOutcome>;
  health(): Promise<StoreHealth>;
}
