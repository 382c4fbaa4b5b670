/**
 * @module The overlay facet: WebSocket sessions speaking OAP/1 (docs/OAP1.md), with readiness
 * that flips when new sessions would in fact fail or be shed.
 */
import type { ConfigEnv } from "../../shared/config";
import type { Facet } from "../../shared/facet";
import type { ReadinessCheck } from "../../shared/ops/readiness";
import { overlayState } from "../../shared/overlay/isolate-state";
import { storeChecks, type StoreEnv } from "../../shared/store";
import type { OverlaySessionEnv } from "../../durable-objects/overlay-session";
import { overlayRoutes } from "./routes";

/** What the overlay facet needs of a worker's Env: the session objects (and through them gossip hubs) and the object store. */
export type OverlayFacetEnv = ConfigEnv & StoreEnv & OverlaySessionEnv;

const overlayChecks: ReadinessCheck[] = [
  {
    // sessions near OVERLAY_MAX_SESSIONS: upgrades are about to be shed
    name: "overlay_sessions",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: true };
      const { OVERLAY_MAX_SESSIONS: max, READY_QUEUE_RATIO: ratio } = rc.configResult.config;
      const open = overlayState.sessions;
      return open < ratio * max ? { ok: true } : { ok: false, degraded: true, detail: `${open} of ${max} sessions open` };
    },
  },
  {
    // gossip relays in progress against the watermark: publishes are about to get 429
    name: "gossip_queue",
    async run(rc) {
      if (!rc.configResult.ok) return { ok: true };
      const { WORK_QUEUE_CAPACITY: capacity, READY_QUEUE_RATIO: ratio } = rc.configResult.config;
      const depth = overlayState.relaysInProgress;
      return depth <= ratio * capacity ? { ok: true } : { ok: false, degraded: true, detail: `${depth} gossip relays in progress (capacity ${capacity})` };
    },
  },
  {
    // the server itself failed handshakes recently (not clients with bad keys): new sessions would fail
    name: "overlay_handshakes",
    async run() {
      const failures = overlayState.recentInternalFailures();
      return failures === 0 ? { ok: true } : { ok: false, detail: `${failures} handshakes failed on the server in the last 30 s` };
    },
  },
];

export const overlayFacet: Facet<OverlayFacetEnv> = {
  routes: overlayRoutes,
  checks: [...storeChecks, ...overlayChecks],
  features: (rc) => ["overlay", rc.configResult.ok ? `pq:${rc.configResult.config.OVERLAY_PQ_MODE}` : "pq:unknown"],
};
