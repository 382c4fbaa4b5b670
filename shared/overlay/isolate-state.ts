/**
 * @module What this isolate knows about its overlay sessions, for /readyz and /metrics: sessions
 * open, frames waiting for credit, gossip relays in progress, and recent handshakes the server
 * itself failed. Like the other metrics these are per isolate (docs/RUNBOOK.md).
 */
import { metrics } from "../metrics";

const INTERNAL_FAILURE_WINDOW_MS = 30_000;
let internalFailures: number[] = [];

export const overlayState = {
  sessionOpened(): void {
    metrics.overlaySessions.inc();
  },
  sessionClosed(): void {
    metrics.overlaySessions.dec();
  },
  get sessions(): number {
    return metrics.overlaySessions.get();
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
