/**
 * @module The AmnesiaStore Durable Object's RPC contract (durable-objects/amnesia-store.ts
 * implements it): what the amnesia object store (amnesia-object-store.ts) and the edge's asset
 * index call. Budgets are in bytes: objects, outboards and pointers share one.
 */
import type { PartRecord } from "./multipart/combine";
import type { CompleteOutcome, CreateOutcome, UploadLimits, UploadRecord } from "./multipart/multipart-store";
import type { ObjectInfo, PeekedObject, PutOutcome, StoredObject } from "./object-store";

export type PointerOutcome = { status: "stored" } | { status: "full"; usedBytes: number; budgetBytes: number };

export type UploadStart = { status: "ready"; id: string } | Exclude<PutOutcome, { status: "created" }>;

/** A multipart part's reservation: an attempt id to send its bytes to, or why not. */
export type PartStart = { status: "ready"; attempt: string } | { status: "unknown" } | { status: "full"; usedBytes: number; budgetBytes: number };

export interface AmnesiaStoreRpc extends Rpc.DurableObjectBranded {
  head(hex: string): Promise<ObjectInfo | null>;
  /** Size and type, and the bytes when the object is at most `inlineBytes`: a GET's one call. */
  peek(hex: string, inlineBytes: number): Promise<PeekedObject | null>;
  get(hex: string): Promise<StoredObject | null>;
  getRange(hex: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Store unless present; refuse ("full") when the object would exceed `budgetBytes`. */
  put(hex: string, bytes: Uint8Array, contentType: string, budgetBytes: number): Promise<PutOutcome>;
  /** Reserve the budget for a streamed upload of `size` bytes plus its outboard. */
  beginUpload(hex: string, size: number, outboardBytes: number, contentType: string, budgetBytes: number): Promise<UploadStart>;
  /** The next bytes of upload `id`; past its size it is dropped and this throws. */
  appendUpload(id: string, chunk: Uint8Array): Promise<void>;
  /** Keep upload `id` (all its bytes in) with its outboard; "existing" when another upload of it won. */
  commitUpload(id: string, outboard: Uint8Array): Promise<PutOutcome>;
  /** Drop upload `id` and release its budget. */
  abortUpload(id: string): Promise<void>;
  // multipart uploads (durable-objects/amnesia-multipart.ts), under the same budget
  /** Open upload `id` (its shard is the address's: amnesia-shards.ts uploadIdForShard). */
  createMultipart(id: string, plan: Omit<UploadRecord, "id" | "expiresAt">, outboardBytes: number, limits: UploadLimits, budgetBytes: number): Promise<CreateOutcome>;
  multipartUpload(id: string, now: number): Promise<UploadRecord | null>;
  beginPart(id: string, n: number, length: number, budgetBytes: number): Promise<PartStart>;
  appendPart(attempt: string, chunk: Uint8Array): Promise<void>;
  commitPart(attempt: string, cvs: Uint8Array): Promise<"stored" | "unknown">;
  abortPart(attempt: string): Promise<void>;
  multipartParts(id: string): Promise<{ parts: PartRecord[]; version: string } | null>;
  completeMultipart(id: string, version: string, outboard: Uint8Array): Promise<CompleteOutcome>;
  abortMultipart(id: string): Promise<boolean>;
  openMultipart(now: number): Promise<{ open: number; expired: number }>;
  getOutboard(hex: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Keep an outboard built for an object put whole; false when absent, over the budget, or one is kept already. */
  putOutboard(hex: string, outboard: Uint8Array, budgetBytes: number): Promise<boolean>;
  getPointer(name: string): Promise<string | null>;
  /** Set a pointer unless the bytes it adds would exceed `budgetBytes` (then nothing changes). */
  setPointer(name: string, value: string, budgetBytes: number): Promise<PointerOutcome>;
  stats(): Promise<{ usedBytes: number; objects: number; pointers: number }>;
}
