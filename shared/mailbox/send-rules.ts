/**
 * @module The synchronous part of a mailbox send and of tidying a topic, over any MessageTable:
 * what the Mailbox Durable Object runs under its turn, and what `npm run bench` times at a given
 * topic depth (case `mailbox-send`).
 */
import type { Message, MessageTable } from "./message-table";

export interface SendInput {
  idem_key: string;
  /** More keys under which this send is a duplicate of an earlier one (e.g. a webhook's signed bytes). */
  dedupe_keys?: string[];
  payload: Uint8Array;
  payload_hash: string;
  attrs: Record<string, string>;
  corr_id: string;
}

/** Dead letters as seen after an operation: how many are kept, and how many were just dropped. */
export interface DeadCounts {
  dead: number;
  /** Dropped to stay under the dead-letter capacity (oldest first). */
  droppedFull: number;
  /** Forgotten after their TTL. */
  expired: number;
}

export type StoreOutcome = { status: "sent" | "duplicate"; msg_id: string; depth: number } | { status: "full"; depth: number };

/** Purge what expired, and drop the oldest dead letters past `deadCapacity`. */
export function tidy(table: MessageTable, now: number, deadCapacity: number): DeadCounts {
  const expired = table.purge(now);
  let dead = table.deadCount();
  const droppedFull = Math.max(0, dead - deadCapacity);
  if (droppedFull > 0) {
    table.dropOldestDead(droppedFull);
    dead -= droppedFull;
  }
  return { dead, droppedFull, expired };
}

/** Store `input` unless it is a resend within the dedupe window or the topic holds `capacity` live messages. */
export function storeSend(table: MessageTable, input: SendInput, limits: { capacity: number; dedupeMs: number; deadCapacity: number }, now: number): StoreOutcome {
  tidy(table, now, limits.deadCapacity);
  const { dedupe_keys = [], ...fields } = input;
  const keys = [input.idem_key, ...dedupe_keys];
  for (const key of keys) {
    const existing = table.findIdem(key, input.payload_hash, now);
    if (existing) return { status: "duplicate", msg_id: existing, depth: table.liveCount() };
  }
  const depth = table.liveCount();
  if (depth >= limits.capacity) return { status: "full", depth };
  const message: Message = { msg_id: crypto.randomUUID(), ts: now, ...fields, attempt: 0, visible_at: now, state: "ready", forget_at: 0 };
  table.insert(message);
  for (const key of keys) table.putIdem(key, input.payload_hash, message.msg_id, now + limits.dedupeMs);
  return { status: "sent", msg_id: message.msg_id, depth: depth + 1 };
}
