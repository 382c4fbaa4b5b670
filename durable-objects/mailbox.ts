/**
 * @module Mailbox: one Durable Object per topic, at-least-once delivery with visibility
 * timeouts, nack with backoff, dead-lettering after the last attempt, dedupe of resends within a
 * window, and a capacity. Persistent mode keeps messages in the object's SQLite storage (a send
 * returns only once it is stored); amnesia keeps them in memory.
 */
import { DurableObject } from "cloudflare:workers";
import { isolateMemory } from "../shared/isolate-memory";
import { MemoryMessageTable, SqlMessageTable, type Message, type MessageTable } from "../shared/mailbox/message-table";

export interface MailboxLimits {
  persistent: boolean;
  capacity: number;
  dedupeMs: number;
  maxAttempts: number;
}

export interface SendInput {
  idem_key: string;
  payload: Uint8Array;
  payload_hash: string;
  attrs: Record<string, string>;
  corr_id: string;
}

export type SendOutcome = { status: "sent" | "duplicate"; msg_id: string; depth: number } | { status: "full"; depth: number };

/** What a consumer receives: the message without its bookkeeping. */
export type Delivery = Omit<Message, "visible_at" | "state" | "forget_at">;

/** Redelivery delay after a nack: 1 s, 2 s, 4 s … capped at 60 s. */
export const nackBackoffMs = (attempt: number) => Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
/** How long an ack stays idempotent (a repeated ack answers ok). */
const ACK_MEMORY_MS = 300_000;

export class Mailbox extends DurableObject {
  #table: MessageTable | null = null;

  #tableFor(limits: MailboxLimits): MessageTable {
    this.#table ??= limits.persistent ? new SqlMessageTable(this.ctx.storage.sql) : isolateMemory(this.ctx, "mailbox", () => new MemoryMessageTable());
    return this.#table;
  }

  async send(input: SendInput, limits: MailboxLimits): Promise<SendOutcome> {
    const table = this.#tableFor(limits);
    const now = Date.now();
    table.purge(now);
    const existing = table.findIdem(input.idem_key, input.payload_hash, now);
    if (existing) return { status: "duplicate", msg_id: existing, depth: table.liveCount() };
    const depth = table.liveCount();
    if (depth >= limits.capacity) return { status: "full", depth };
    const message: Message = { msg_id: crypto.randomUUID(), ts: now, ...input, attempt: 0, visible_at: now, state: "ready", forget_at: 0 };
    table.insert(message);
    table.putIdem(input.idem_key, input.payload_hash, message.msg_id, now + limits.dedupeMs);
    return { status: "sent", msg_id: message.msg_id, depth: depth + 1 };
  }

  async recv(visibilityMs: number, maxMessages: number, limits: MailboxLimits): Promise<{ messages: Delivery[]; deadLettered: number; depth: number }> {
    const table = this.#tableFor(limits);
    const now = Date.now();
    const messages: Delivery[] = [];
    let deadLettered = 0;
    while (messages.length < maxMessages) {
      const batch = table.due(now, maxMessages - messages.length);
      if (batch.length === 0) break;
      for (const m of batch) {
        if (m.attempt >= limits.maxAttempts) {
          table.update({ ...m, state: "dead" }); // delivered the last time and never acked
          deadLettered++;
          continue;
        }
        const delivered = { ...m, attempt: m.attempt + 1, visible_at: now + visibilityMs, state: "inflight" as const };
        table.update(delivered);
        messages.push(toDelivery(delivered));
      }
    }
    return { messages, deadLettered, depth: table.liveCount() };
  }

  /** "ok" also for a repeated ack; "unknown" when absent or its visibility already expired. */
  async ack(msgId: string, limits: MailboxLimits): Promise<"ok" | "unknown"> {
    const table = this.#tableFor(limits);
    const now = Date.now();
    const m = table.get(msgId);
    if (m?.state === "acked") return "ok";
    if (!m || m.state !== "inflight" || m.visible_at <= now) return "unknown";
    table.update({ ...m, state: "acked", payload: new Uint8Array(0), forget_at: now + ACK_MEMORY_MS });
    return "ok";
  }

  async nack(msgId: string, limits: MailboxLimits): Promise<"requeued" | "dead" | "unknown"> {
    const table = this.#tableFor(limits);
    const now = Date.now();
    const m = table.get(msgId);
    if (!m || m.state !== "inflight" || m.visible_at <= now) return "unknown";
    if (m.attempt >= limits.maxAttempts) {
      table.update({ ...m, state: "dead" });
      return "dead";
    }
    table.update({ ...m, state: "ready", visible_at: now + nackBackoffMs(m.attempt) });
    return "requeued";
  }

  async deadLetters(maxMessages: number, limits: MailboxLimits): Promise<Delivery[]> {
    return this.#tableFor(limits).dead(maxMessages).map(toDelivery);
  }

  async stats(limits: MailboxLimits): Promise<{ depth: number; dead: number }> {
    const table = this.#tableFor(limits);
    return { depth: table.liveCount(), dead: table.deadCount() };
  }
}

const toDelivery = ({ visible_at: _v, state: _s, forget_at: _f, ...delivery }: Message): Delivery => delivery;
