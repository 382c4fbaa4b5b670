/**
 * @module What this isolate knows about its overlay sessions, for /readyz and /metrics: sessions
 * open, frames waiting for credit, gossip relays in progress, and recent handshakes the server
 * itself failed. Like the other metrics these are per isolate (docs/RUNBOOK.md).
 */
import { metrics } from "../metrics";

const INTERNAL_FAILURE_WINDOW_MS = 30_000;
let internalFailures: number[] = [];
/** Open sessions per client key (OVERLAY_MAX_SESSIONS_PER_CLIENT); keys leave when they reach 0. */
const perClient = new Map<string, number>();

export const overlayState = {
  /** A client's slot, taken by the worker when it admits an upgrade (before any await). */
  reserveClient(client: string): void {
    perClient.set(client, (perClient.get(client) ?? 0) + 1);
  },
  releaseClient(client: string): void {
    const left = (perClient.get(client) ?? 0) - 1;
    if (left > 0) perClient.set(client, left);
    else perClient.delete(client);
  },
  sessionOpened(): void {
    metrics.overlaySessions.inc();
  },
  /** The session closed: the gauge goes down and its client's slot is given back. */
  sessionClosed(client: string): void {
    metrics.overlaySessions.dec();
    this.releaseClient(client);
  },
  get sessions(): number {
    return metrics.overlaySessions.get();
  },
  sessionsOf(client: string): number {
    return perClient.get(client) ?? 0;
  },
  /** Frames queued for credit across sessions (`queue_depth{queue="overlay_send"}`). */
  sendQueued(delta: number): void {
    metrics.queueDepth.inc({ queue: "overlay_send" }, delta);
  },
  /** Gossip relays in progress across hubs (`queue_depth{queue="gossip"}`). */
  relays(delta: number): void {
    metrics.queueDepth.inc({ queue: "gossip" }, delta);
  },
  get relaysInProgress(): number {
    return metrics.queueDepth.get({ queue: "gossip" });
  },
  /** The server failed a handshake itself (not the client's fault). */
  internalFailure(now = Date.now()): void {
    internalFailures.push(now);
  },
  recentInternalFailures(now = Date.now()): number {
    internalFailures = internalFailures.filter((t) => now - t < INTERNAL_FAILURE_WINDOW_MS);
    return internalFailures.length;
  },
};
