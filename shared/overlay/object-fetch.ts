/**
 * @module What a session fetch serves: the address parsed, the object found, sized against the
 * session's limits and opened as a verified read of the store — or the refusal to send instead
 * (docs/OAP1.md §5). The object is not read whole: its groups come from the store as they are
 * sent, each checked against the object's outboard tree (shared/store/verified-read). The first
 * group is checked before this returns, so bytes that fail there throw IntegrityError
 * (shared/domain-errors.ts) before anything is sent; a later group's failure errors the stream.
 */
import type { ObjectStore } from "../store";
import { openVerifiedRange, type VerifiedReadOptions } from "../store/verified-read";

export interface Refusal {
  status: number;
  reason: string;
  message: string;
}

/** An object to send: held whole when small (≤ INLINE_READ_BYTES, one store call), else a stream of verified groups. */
export interface OpenedObject {
  address: string;
  size: number;
  body: Uint8Array | ReadableStream<Uint8Array>;
}

export type FetchOutcome = OpenedObject | { refusal: Refusal };

export interface FetchLimits {
  /** OVERLAY_FETCH_MAX_BYTES. */
  maxBytes: number;
  /** Bytes this session may still have in flight for fetches waiting on credit. */
  budgetLeft: number;
  /** Names the session in an integrity-failure log line. */
  corrId: string;
  /** VERIFY_GROUP_BYTES and STREAM_CHUNK_BYTES (an object stored without an outboard gets one on this read). */
  verify: VerifiedReadOptions;
}

const refuse = (status: number, reason: string, message: string): FetchOutcome => ({ refusal: { status, reason, message } });

export async function fetchForSession(store: ObjectStore, payload: Uint8Array, limits: FetchLimits): Promise<FetchOutcome> {
  const address = new TextDecoder().decode(payload).trim();
  const hex = /^b3:([0-9a-f]{64})$/.exec(address)?.[1];
  if (!hex) return refuse(400, "bad_address", "expected b3:<64 lowercase hex>");
  const info = await store.head(hex);
  if (!info) return refuse(404, "not_found", `no object ${address}`);
  if (info.size > limits.maxBytes) return refuse(413, "too_large", `${address} is ${info.size} bytes; sessions serve at most ${limits.maxBytes}`);
  if (info.size > limits.budgetLeft) return refuse(429, "fetch_budget", "too many fetch bytes waiting for credit on this session");
  const body = await openVerifiedRange({ corrId: limits.corrId }, store, hex, info, 0, info.size, limits.verify);
  return { address, size: info.size, body };
}
