/**
 * @module What a session fetch serves: the address parsed, the object found, sized against the
 * session's limits and verified against its address — or the refusal to send instead
 * (docs/OAP1.md §5). Bytes that fail their address throw IntegrityError (shared/domain-errors.ts),
 * which the session object translates. It only turns the bytes into frames under its credit window.
 */
import type { ObjectStore } from "../store";
import { readVerified } from "../store/verified-read";

export interface Refusal {
  status: number;
  reason: string;
  message: string;
}

export type FetchOutcome = { address: string; bytes: Uint8Array } | { refusal: Refusal };

export interface FetchLimits {
  /** OVERLAY_FETCH_MAX_BYTES. */
  maxBytes: number;
  /** Bytes this session may still buffer for fetches waiting on credit. */
  budgetLeft: number;
  /** Names the session in an integrity-failure log line. */
  corrId: string;
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
  return { address, bytes: (await readVerified({ corrId: limits.corrId }, store, hex)).bytes };
}
