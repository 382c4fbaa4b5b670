/**
 * @module edge as its own worker, one of the macronode's (docs/DEPLOY.md): assets over R2, with
 * the interop worker's Durable Objects. Only wires.
 */
import type { ServiceEnv } from "../../shared/service";
import { serviceEntrypoint } from "../../shared/service-entrypoint";
import API_DOCUMENT from "./openapi.json.txt";
import { edgeFacet, type EdgeFacetEnv } from "./facet";

// Its Durable Objects (AmnesiaStore, AuditLog, RateLimiter) are interop's, bound by script_name.

/** The hardened path's bindings and the edge facet's: what ./wrangler.toml must bind. */
export type EdgeEnv = ServiceEnv & EdgeFacetEnv;

/** A WorkerEntrypoint: `fetch`, plus `readiness()` over RPC for the macronode gateway. */
export default serviceEntrypoint<EdgeEnv>({ service: "edge", facets: [edgeFacet], document: API_DOCUMENT });
