/**
 * @module interop as its own worker, one of the macronode's (docs/DEPLOY.md): content-addressed
 * objects over R2 by default. It defines the Durable Objects the other services bind by
 * script_name. Only wires.
 */
import type { ServiceEnv } from "../../shared/service";
import { serviceEntrypoint } from "../../shared/service-entrypoint";
import API_DOCUMENT from "./openapi.json.txt";
import { interopFacet, type InteropFacetEnv } from "./facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";
export { AuditLog } from "../../durable-objects/audit-log";
export { Mailbox } from "../../durable-objects/mailbox";
export { RateLimiter } from "../../durable-objects/rate-limiter";

/** The hardened path's bindings and the interop facet's: what ./wrangler.toml must bind. */
export type InteropEnv = ServiceEnv & InteropFacetEnv;

/** A WorkerEntrypoint: `fetch`, plus `readiness()` over RPC for the macronode gateway. */
export default serviceEntrypoint<InteropEnv>({ service: "interop", facets: [interopFacet], document: API_DOCUMENT });
