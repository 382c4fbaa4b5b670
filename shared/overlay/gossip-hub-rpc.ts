/**
 * @module The GossipHub Durable Object's RPC contract (durable-objects/gossip-hub.ts implements
 * it): one hub per topic, called by the overlay sessions that subscribe and publish.
 */
import type { GossipMessage } from "./gossip-relay";
import type { GossipSettings } from "./settings";

export type SubscribeOutcome = { ok: true; subscribers: number } | { ok: false; reason: "full" };
export type PublishOutcome = { status: "relaying"; subscribers: number } | { status: "duplicate" } | { status: "backpressure" };

export interface GossipHubRpc extends Rpc.DurableObjectBranded {
  subscribe(sessionId: string, settings: GossipSettings): Promise<SubscribeOutcome>;
  unsubscribe(sessionId: string, settings: GossipSettings): Promise<void>;
  subscriberCount(settings: GossipSettings): Promise<number>;
  /** Relay `message` (from session `origin`) to the topic's subscribers, once per message id. */
  publish(message: GossipMessage, origin: string, settings: GossipSettings): Promise<PublishOutcome>;
}
