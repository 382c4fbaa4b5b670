/**
 * @module micronode: every facet in one worker, single tenant, amnesia (RAM-only) by default.
 * What `npm start` runs. This file only wires.
 */
import { hardenedService, type ServiceEnv } from "../../shared/service";
import API_DOCUMENT from "./openapi.json.txt";
import { edgeFacet, type EdgeFacetEnv } from "../edge/facet";
import { interopFacet, type InteropFacetEnv } from "../interop/facet";
import { overlayFacet, type OverlayFacetEnv } from "../overlay/facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";
export { AuditLog } from "../../durable-objects/audit-log";
export { GossipHub } from "../../durable-objects/gossip-hub";
export { Mailbox } from "../../durable-objects/mailbox";
export { OverlaySession } from "../../durable-objects/overlay-session";
export { RateLimiter } from "../../durable-objects/rate-limiter";

/** The hardened path's bindings and every facet's: what /wrangler.toml must bind. */
export type MicronodeEnv = ServiceEnv & InteropFacetEnv & OverlayFacetEnv & EdgeFacetEnv;

const fetch = hardenedService<MicronodeEnv>({ service: "micronode", facets: [interopFacet, overlayFacet, edgeFacet], document: API_DOCUMENT });

export default { fetch } satisfies ExportedHandler<MicronodeEnv>;
