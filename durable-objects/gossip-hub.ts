/**
 * @module GossipHub: one object per topic. It holds the topic's subscribers (session ids, in its
 * storage so an evicted hub still knows them; in amnesia mode in isolate memory instead, which
 * also outlives an eviction and never reaches disk), deduplicates published messages by id for their
 * TTL, and starts each relay with bounded fanout (shared/overlay/gossip-relay.ts). It never waits
 * on a subscriber: a publish returns once the relay is started, and relays in progress are capped
 * (WORK_QUEUE_CAPACITY) so a burst is refused with backpressure instead of piling up.
 */
import { DurableObject } from "cloudflare:workers";
import { forgetIsolateMemory, isolateMemory } from "../shared/isolate-memory";
import { metrics } from "../shared/metrics";
import { overlayState } from "../shared/overlay/isolate-state";
import { relay, type GossipMessage, type GossipPeer } from "../shared/overlay/gossip-relay";
import type { GossipSettings } from "../shared/overlay/settings";
import type { GossipHubRpc, PublishOutcome, SubscribeOutcome } from "../shared/overlay/gossip-hub-rpc";
import { log } from "../shared/log";

export interface GossipHubEnv {
  GOSSIP_HUB: DurableObjectNamespace<GossipHub>;
  OVERLAY_SESSION: DurableObjectNamespace<GossipPeer & Rpc.DurableObjectBranded>;
}

export type { PublishOutcome, SubscribeOutcome } from "../shared/overlay/gossip-hub-rpc";

/** Log lines from this object name it; it has no request, so no corr id. */
const LOG_SCOPE = { service: "gossip-hub" } as const;
/** Ids remembered for dedupe at most; past it the oldest are forgotten first. */
const SEEN_CAP = 100_000;
const SUBSCRIBER_PREFIX = "sub:";

export class GossipHub extends DurableObject<GossipHubEnv> implements GossipHubRpc {
  #subscribers: Set<string> | undefined;
  #seen = new Map<string, number>();
  #relaying = 0;
  /** Relays in flight, referenced so they run to the end. */
  #work = new Set<Promise<void>>();

  async #loadSubscribers(settings: GossipSettings): Promise<Set<string>> {
    if (!settings.persistent) return isolateMemory(this.ctx, "gossip-subscribers", () => new Set<string>());
    if (!this.#subscribers) {
      const stored = await this.ctx.storage.list({ prefix: SUBSCRIBER_PREFIX });
      this.#subscribers = new Set([...stored.keys()].map((k) => k.slice(SUBSCRIBER_PREFIX.length)));
    }
    return this.#subscribers;
  }

  async subscribe(sessionId: string, settings: GossipSettings): Promise<SubscribeOutcome> {
    const subscribers = await this.#loadSubscribers(settings);
    if (!subscribers.has(sessionId)) {
      if (subscribers.size >= settings.maxSubscribers) return { ok: false, reason: "full" };
      subscribers.add(sessionId);
      if (settings.persistent) await this.ctx.storage.put(SUBSCRIBER_PREFIX + sessionId, Date.now());
    }
    return { ok: true, subscribers: subscribers.size };
  }

  async unsubscribe(sessionId: string, settings: GossipSettings): Promise<void> {
    const subscribers = await this.#loadSubscribers(settings);
    if (subscribers.delete(sessionId) && settings.persistent) await this.ctx.storage.delete(SUBSCRIBER_PREFIX + sessionId);
    // amnesia: a topic nobody follows holds nothing, or every topic name ever used would stay in
    // isolate memory (the next subscribe starts a new set; no await since the delete, so no race)
    if (!settings.persistent && subscribers.size === 0) forgetIsolateMemory(this.ctx, "gossip-subscribers");
  }

  async subscriberCount(settings: GossipSettings): Promise<number> {
    return (await this.#loadSubscribers(settings)).size;
  }

  async publish(message: GossipMessage, origin: string, settings: GossipSettings): Promise<PublishOutcome> {
    const now = Date.now();
    this.#forgetExpired(now);
    if (this.#seen.has(message.id)) {
      metrics.gossipDropped.inc({ reason: "duplicate" });
      return { status: "duplicate" };
    }
    if (this.#relaying >= settings.queueCapacity) {
      metrics.gossipDropped.inc({ reason: "backpressure" });
      return { status: "backpressure" };
    }
    this.#remember(message.id, message.expiresAt);
    const subscribers = await this.#loadSubscribers(settings);
    const targets = shuffle([...subscribers].filter((id) => id !== origin));
    this.#relaying++;
    overlayState.relays(1);
    const work = relay(message, targets, settings.maxHops, settings, (id) => this.#peer(id), (id) => void this.unsubscribe(id, settings))
      .catch((error) => log.error(LOG_SCOPE, "gossip relay failed", { topic: message.topic, error: String(error) }))
      .finally(() => {
        this.#relaying--;
        overlayState.relays(-1);
        this.#work.delete(work);
      });
    this.#work.add(work);
    return { status: "relaying", subscribers: targets.length };
  }

  #peer(id: string): GossipPeer {
    const stub = this.env.OVERLAY_SESSION.get(this.env.OVERLAY_SESSION.idFromString(id));
    // awaited inside a fresh async function so a failed RPC is a rejection the relay handles
    return { deliver: async (...args) => await stub.deliver(...args) };
  }

  #remember(id: string, expiresAt: number): void {
    this.#seen.set(id, expiresAt);
    while (this.#seen.size > SEEN_CAP) this.#seen.delete(this.#seen.keys().next().value!);
  }

  #forgetExpired(now: number): void {
    // insertion order is close to expiry order; stopping at the first live id keeps this O(1)
    // amortised, at worst remembering a short-lived id a little longer (harmless for dedupe)
    for (const [id, expiresAt] of this.#seen) {
      if (expiresAt >= now) break;
      this.#seen.delete(id);
    }
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
