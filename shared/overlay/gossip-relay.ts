/**
 * @module Gossip relay with bounded fanout (docs/OAP1.md §6). Whoever holds a message and a list
 * of subscribers that still need it (the hub first, then each subscriber's session) splits the
 * list into at most `fanout` groups and hands each group's first session the message plus the rest
 * of its group to pass on. So every node sends at most `fanout` relays, everyone is reached in
 * about log_fanout(n) hops, and a hop budget (`maxHops`) bounds the depth: what is left when it
 * runs out is dropped with reason `ttl`.
 */
import { metrics } from "../metrics";
import type { GossipSettings } from "./settings";

export interface GossipMessage {
  topic: string;
  id: string;
  data: Uint8Array;
  /** Epoch ms after which the message is dropped (reason `expired`) and forgotten by dedupe. */
  expiresAt: number;
}

export type DeliveryOutcome = "delivered" | "duplicate" | "slow" | "evicted" | "expired" | "gone";

/** The session side of a relay hop: deliver locally, then pass `subtree` on with `hopsLeft`. */
export interface GossipPeer {
  deliver(message: GossipMessage, subtree: string[], hopsLeft: number, settings: GossipSettings): Promise<DeliveryOutcome>;
}

/** How long one relay hop may take before its target counts as gone. */
const HOP_TIMEOUT_MS = 5_000;

/** Split `targets` into at most `fanout` groups of near-equal size, in order. */
export function fanoutGroups<T>(targets: readonly T[], fanout: number): T[][] {
  const count = Math.min(fanout, targets.length);
  const groups: T[][] = Array.from({ length: count }, () => []);
  targets.forEach((target, i) => groups[i % count]!.push(target));
  return groups;
}

/**
 * Relay `message` to `targets` with `hopsLeft` hops to spend. `peer(id)` reaches a session;
 * `onGone(id)` hears of sessions that no longer exist (their groups are re-routed, not lost).
 */
export async function relay(
  message: GossipMessage,
  targets: readonly string[],
  hopsLeft: number,
  settings: GossipSettings,
  peer: (id: string) => GossipPeer,
  onGone: (id: string) => void,
): Promise<void> {
  if (!targets.length) return;
  if (Date.now() > message.expiresAt) {
    metrics.gossipDropped.inc({ reason: "expired" }, targets.length);
    return;
  }
  if (hopsLeft <= 0) {
    metrics.gossipDropped.inc({ reason: "ttl" }, targets.length);
    return;
  }
  await Promise.all(
    fanoutGroups(targets, settings.fanout).map(async ([head, ...rest]) => {
      let outcome: DeliveryOutcome;
      try {
        outcome = await withDeadline(peer(head!).deliver(message, rest, hopsLeft - 1, settings), HOP_TIMEOUT_MS);
      } catch {
        outcome = "gone";
      }
      if (outcome !== "gone") return;
      metrics.gossipDropped.inc({ reason: "gone" });
      onGone(head!);
      await relay(message, rest, hopsLeft, settings, peer, onGone);
    }),
  );
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("relay hop timed out")), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
