/**
 * @module overlay as its own worker (the macronode shape): sessions and gossip over WebSockets,
 * objects fetched from R2. Deploy with `wrangler deploy -c workers/overlay/wrangler.toml`. Only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import type { RateLimiterEnv } from "../../shared/middleware/with-rate-limit";
import { hardenedService } from "../../shared/service";
import API_DOCUMENT from "./openapi.json.txt";
import type { OverlaySessionEnv } from "../../durable-objects/overlay-session";
import { overlayFacet } from "./facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";
export { GossipHub } from "../../durable-objects/gossip-hub";
export { OverlaySession } from "../../durable-objects/overlay-session";
export { RateLimiter } from "../../durable-objects/rate-limiter";

export type OverlayEnv = ConfigEnv & OverlaySessionEnv & RateLimiterEnv;

const fetch = hardenedService<OverlayEnv>({ service: "overlay", facets: [overlayFacet], document: API_DOCUMENT });

export default { fetch } satisfies ExportedHandler<OverlayEnv>;
