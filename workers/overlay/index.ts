/**
 * @module overlay as its own worker, one of the macronode's (docs/DEPLOY.md): sessions and gossip
 * over WebSockets, objects from the shared store. Only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import type { RateLimiterEnv } from "../../shared/middleware/with-rate-limit";
import { serviceEntrypoint } from "../../shared/service-entrypoint";
import API_DOCUMENT from "./openapi.json.txt";
import type { OverlaySessionEnv } from "../../durable-objects/overlay-session";
import { overlayFacet } from "./facet";

// AmnesiaStore and RateLimiter are interop's, bound by script_name; the session objects are its own.
export { GossipHub } from "../../durable-objects/gossip-hub";
export { OverlaySession } from "../../durable-objects/overlay-session";

export type OverlayEnv = ConfigEnv & OverlaySessionEnv & RateLimiterEnv;

/** A WorkerEntrypoint: `fetch`, plus `readiness()` over RPC for the macronode gateway. */
export default serviceEntrypoint<OverlayEnv>({ service: "overlay", facets: [overlayFacet], document: API_DOCUMENT });
