/**
 * @module Mailbox: one Durable Object per topic, at-least-once delivery with visibility
 * timeouts, nack with backoff, dead-lettering after the last attempt, dedupe of resends within a
 * window, and a capacity. Persistent mode keeps messages in the object's SQLite storage (a send
 * returns only once it is stored); amnesia keeps them in memory.
 *
 * Everything a client can make it hold is bounded: messages by the capacity, dead letters by
 * their own capacity (drop-oldest) and TTL, and the topics themselves by the topic directory, one
 * more instance of this class (named `#topics:<mode>`, which no topic name can be) that counts
 * the topics holding state. A topic claims a place there before it first stores anything; reads
 * of a topic that holds nothing create nothing; and an emptied topic gives its place back (and
 * its memory or tables) when the directory, full, asks.
 */
import { DurableObject } from "cloudflare:workers";
import { forgetIsolateMemory, isolateMemory, peekIsolateMemory } from "../shared/isolate-memory";
import { singletonStub } from "../shared/singleton-stub";
import type { ConfigEnv } from "../shared/config";
import { MemoryMessageTable, SqlMessageTable, type Message, type MessageTable } from "../shared/mailbox/message-table";
import { directoryName, MemoryTopicRegistry, SqlTopicRegistry, type TopicRegistry } from "../shared/mailbox/topic-registry";
import { storeSend, tidy } from "../shared/mailbox/send-rules";
import type { DeadCounts, Delivery, MailboxLimits, MailboxRpc, NackOutcome, RecvOutcome, SendInput, SendOutcome, TopicRef } from "../shared/mailbox/rpc";

export type { DeadCounts, Delivery, MailboxLimits, NackOutcome, RecvOutcome, SendInput, SendOutcome, TopicRef } from "../shared/mailbox/rpc";

/** Redelivery delay after a nack: 1 s, 2 s, 4 s … capped at 60 s. */
export const nackBackoffMs = (attempt: number) => Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
/** A full directory asks its topics whether they emptied at most this often. */
const SWEEP_EVERY_MS = 1_000;

export interface MailboxEnv extends ConfigEnv {
  MAILBOX: DurableObjectNamespace<Mailbox>;
}

const NO_DEAD: DeadCounts = { dead: 0, droppedFull: 0, expired: 0 };

export class Mailbox extends DurableObject<MailboxEnv> implements MailboxRpc {
  #table: MessageTable | null = null;
  /** Sends and releases one at a time, so a topic never stores while giving its place back. */
  #turn: Promise<unknown> = Promise.resolve();
  #registry: TopicRegistry | null = null;
  #lastSweep = 0;

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#turn.then(work);
    this.#turn = result.catch(() => {});
    return result;
  }

  /** The topic's table; when it holds nothing yet, created only if `create`. */
  #tableFor(limits: MailboxLimits, create: boolean): MessageTable | null {
    if (this.#table) return this.#table;
    if (limits.persistent) {
      if (create || SqlMessageTable.exists(this.ctx.storage.sql)) this.#table = new SqlMessageTable(this.ctx.storage.sql);
    } else {
      this.#table = create ? isolateMemory(this.ctx, "mailbox", () => new MemoryMessageTable()) : (peekIsolateMemory<MessageTable>(this.ctx, "mailbox") ?? null);
    }
    return this.#table;
  }

  #directory(limits: MailboxLimits): DurableObjectStub<Mailbox> {
    return singletonStub(this.env.MAILBOX, directoryName(limits.persistent), this.env);
  }

  /** Purge what expired, and drop the oldest dead letters past the capacity. */
  #tidy(table: MessageTable, now: number, limits: MailboxLimits): DeadCounts {
    return tidy(table, now, limits.deadCapacity);
  }

  #bury(table: MessageTable, m: Message, now: number, limits: MailboxLimits): void {
    table.update({ ...m, state: "dead", forget_at: now + limits.deadTtlMs });
  }

  send(topic: TopicRef, input: SendInput, limits: MailboxLimits): Promise<SendOutcome> {
    return this.#exclusive(async () => {
      if (!this.#tableFor(limits, false) && topic.counted) {
        const claim = await this.#directory(limits).claimTopic(topic.name, limits);
        if (!claim.ok) return { status: "topic_limit", topics: claim.topics };
      }
      return storeSend(this.#tableFor(limits, true)!, input, limits, Date.now());
    });
  }

  /** `send` for several messages to this topic in one call and one turn; outcomes in order. */
  sendMany(topic: TopicRef, inputs: SendInput[], limits: MailboxLimits): Promise<SendOutcome[]> {
    return this.#exclusive(async () => {
      if (!this.#tableFor(limits, false) && topic.counted) {
        const claim = await this.#directory(limits).claimTopic(topic.name, limits);
        if (!claim.ok) return inputs.map(() => ({ status: "topic_limit" as const, topics: claim.topics }));
      }
      const table = this.#tableFor(limits, true)!;
      return inputs.map((input) => storeSend(table, input, limits, Date.now()));
    });
  }

  async recv(visibilityMs: number, maxMessages: number, limits: MailboxLimits): Promise<RecvOutcome> {
    const table = this.#tableFor(limits, false);
    if (!table) return { messages: [], deadLettered: 0, depth: 0, ...NO_DEAD };
    const now = Date.now();
    const messages: Delivery[] = [];
    let deadLettered = 0;
    while (messages.length < maxMessages) {
      const batch = table.due(now, maxMessages - messages.length);
      if (batch.length === 0) break;
      for (const m of batch) {
        if (m.attempt >= limits.maxAttempts) {
          this.#bury(table, m, now, limits); // delivered the last time and never acked
          deadLettered++;
          continue;
        }
        const delivered = { ...m, attempt: m.attempt + 1, visible_at: now + visibilityMs, state: "inflight" as const };
        table.update(delivered);
        messages.push(toDelivery(delivered));
      }
    }
    return { messages, deadLettered, depth: table.liveCount(), ...this.#tidy(table, now, limits) };
  }

  /** "ok" also for a repeated ack; "unknown" when absent or its visibility already expired. */
  async ack(msgId: string, limits: MailboxLimits): Promise<"ok" | "unknown"> {
    const table = this.#tableFor(limits, false);
    if (!table) return "unknown";
    const now = Date.now();
    const m = table.get(msgId);
    if (m?.state === "acked") return "ok";
    if (!m || m.state !== "inflight" || m.visible_at <= now) return "unknown";
    // a repeated ack answers ok for as long as a resend would be a duplicate
    table.update({ ...m, state: "acked", payload: new Uint8Array(0), forget_at: now + limits.dedupeMs });
    return "ok";
  }

  async nack(msgId: string, limits: MailboxLimits): Promise<NackOutcome> {
    const table = this.#tableFor(limits, false);
    if (!table) return { status: "unknown", ...NO_DEAD };
    const now = Date.now();
    const m = table.get(msgId);
    if (!m || m.state !== "inflight" || m.visible_at <= now) return { status: "unknown", ...NO_DEAD };
    if (m.attempt >= limits.maxAttempts) {
      this.#bury(table, m, now, limits);
      return { status: "dead", ...this.#tidy(table, now, limits) };
    }
    table.update({ ...m, state: "ready", visible_at: now + nackBackoffMs(m.attempt) });
    return { status: "requeued", ...NO_DEAD };
  }

  async deadLetters(maxMessages: number, limits: MailboxLimits): Promise<{ messages: Delivery[] } & DeadCounts> {
    const table = this.#tableFor(limits, false);
    if (!table) return { messages: [], ...NO_DEAD };
    const counts = this.#tidy(table, Date.now(), limits);
    return { messages: table.dead(maxMessages).map(toDelivery), ...counts };
  }

  async stats(limits: MailboxLimits): Promise<{ depth: number; dead: number }> {
    const table = this.#tableFor(limits, false);
    return { depth: table?.liveCount() ?? 0, dead: table?.deadCount() ?? 0 };
  }

  /** Topic side: when nothing is left, give the directory place back and hold no state at all. */
  releaseIfEmpty(topic: string, limits: MailboxLimits): Promise<boolean> {
    return this.#exclusive(async () => {
      const table = this.#tableFor(limits, false);
      if (table) {
        table.purge(Date.now());
        if (!table.isEmpty()) return false;
      }
      await this.#directory(limits).releaseTopic(topic, limits);
      this.#table = null;
      if (limits.persistent) SqlMessageTable.drop(this.ctx.storage.sql);
      else forgetIsolateMemory(this.ctx, "mailbox");
      return true;
    });
  }

  // ---- directory side (only on the `#topics:<mode>` instance) ----

  #registryFor(limits: MailboxLimits): TopicRegistry {
    this.#registry ??= limits.persistent ? new SqlTopicRegistry(this.ctx.storage.sql) : isolateMemory(this.ctx, "mailbox-topics", () => new MemoryTopicRegistry());
    return this.#registry;
  }

  /** Give `topic` a place unless `maxTopics` topics hold one; a full directory first asks its topics whether they emptied. */
  async claimTopic(topic: string, limits: MailboxLimits): Promise<{ ok: boolean; topics: number }> {
    const registry = this.#registryFor(limits);
    if (!registry.has(topic) && registry.size() >= limits.maxTopics && Date.now() - this.#lastSweep >= SWEEP_EVERY_MS) {
      this.#lastSweep = Date.now();
      // Each emptied topic calls releaseTopic itself before dropping its state (see releaseIfEmpty).
      await Promise.allSettled(registry.list().map((name) => this.env.MAILBOX.get(this.env.MAILBOX.idFromName(name)).releaseIfEmpty(name, limits)));
    }
    if (registry.has(topic)) return { ok: true, topics: registry.size() };
    if (registry.size() >= limits.maxTopics) return { ok: false, topics: registry.size() };
    registry.add(topic);
    return { ok: true, topics: registry.size() };
  }

  async releaseTopic(topic: string, limits: MailboxLimits): Promise<void> {
    this.#registryFor(limits).delete(topic);
  }

  async topicCount(limits: MailboxLimits): Promise<number> {
    return this.#registryFor(limits).size();
  }
}

const toDelivery = ({ visible_at: _v, state: _s, forget_at: _f, ...delivery }: Message): Delivery => delivery;
