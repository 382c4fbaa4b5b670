/**
 * @module The amnesia store's shard router: the one place that says which of the
 * `AMNESIA_SHARDS` Durable Objects (`amnesia-0` … `amnesia-<n−1>`) holds an object or a pointer,
 * and with what budget. Objects go by their address (a BLAKE3 hash, already uniform, so its
 * leading 32 bits spread them evenly), pointers by a hash of their name. Each shard holds at most
 * `AMNESIA_MAX_BYTES / AMNESIA_SHARDS` bytes (rounded down), so no one object takes every call
 * and every byte, and the shards together stay within the one budget.
 */
import type { AmnesiaStoreRpc } from "./amnesia-rpc";

/** How the RAM store is split: its total budget and the number of shards it is split over. */
export interface AmnesiaLayout {
  maxBytes: number;
  shards: number;
}

/** One shard as the callers see it: its name, its stub and its share of the budget. */
export interface AmnesiaShard {
  name: string;
  stub: DurableObjectStub<AmnesiaStoreRpc>;
  budgetBytes: number;
}


const LEADING_HEX = /^[0-9a-f]{8}/;

/** The shard of the object at `hex` (64 hex digits): its leading 32 bits modulo `shards`. */
export function shardOfAddress(hex: string, shards: number): number {
  if (!LEADING_HEX.test(hex)) throw new Error("not a content address");
  return Number.parseInt(hex.slice(0, 8), 16) % shards;
}

/** The shard of the pointer `name`: FNV-1a (32 bits) of its UTF-8 bytes modulo `shards` (spread, not secrecy). */
export function shardOfPointer(name: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) % shards;
}

/** Shard `index` of the namespace, with its share of the budget. */
export function amnesiaShard(namespace: DurableObjectNamespace<AmnesiaStoreRpc>, layout: AmnesiaLayout, index: number): AmnesiaShard {
  const name = `amnesia-${index}`;
  // each shard's budget: an equal share of the total, rounded down
  return { name, stub: namespace.get(namespace.idFromName(name)), budgetBytes: Math.floor(layout.maxBytes / layout.shards) };
}

/**
 * A new multipart upload id whose shard (as a pointer name, `upload:<id>`) is `target`, the shard
 * of the address being uploaded: later calls carry only the id, and find the upload (and, at
 * completion, the object's home) from it. About `shards` tries of a random UUID.
 */
export function uploadIdForShard(target: number, shards: number): string {
  for (;;) {
    const id = crypto.randomUUID();
    if (shardOfUpload(id, shards) === target) return id;
  }
}

/** The shard holding multipart upload `id` (the shard of the address it uploads). */
export const shardOfUpload = (id: string, shards: number): number => shardOfPointer(`upload:${id}`, shards);
