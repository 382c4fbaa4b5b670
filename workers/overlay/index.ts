/**
 * @module overlay as its own worker, one of the macronode's (docs/DEPLOY.md): sessions and gossip
 * over WebSockets, objects from the shared store. Only wires.
 */
import type { ServiceEnv } from "../../shared/service";
import { serviceEntrypoint } from "../../shared/service-entrypoint";
import API_DOCUMENT from "./openapi.json.txt";
import { overlayFacet, type OverlayFacetEnv } from "./facet";

// AmnesiaStore and RateLimiter are interop's, bound by script_name; the session objects are its own.
export { GossipHub } from "../../durable-objects/gossip-hub";
export { OverlaySession } from "../../durable-objects/overlay-session";

/** The hardened path's bindings and the overlay facet's: what ./wrangler.toml must bind. */
export type OverlayEnv = ServiceEnv & OverlayFacetEnv;

/** A WorkerEntrypoint: `fetch`, plus `readiness()` over RPC for the macronode gateway. */
export default serviceEntrypoint<OverlayEnv>({ service: "overlay", facets: [overlayFacet], document: API_DOCUMENT });
