/**
 * @module edge as its own worker, one of the macronode's (docs/DEPLOY.md): assets over R2, with
 * the interop worker's Durable Objects. Only wires.
 */
import type { AuditEnv } from "../../shared/audit";
import type { ConfigEnv } from "../../shared/config";
import type { RateLimiterEnv } from "../../shared/middleware/with-rate-limit";
import { serviceEntrypoint } from "../../shared/service-entrypoint";
import API_DOCUMENT from "./openapi.json.txt";
import type { StoreEnv } from "../../shared/store";
import { edgeFacet } from "./facet";

// Its Durable Objects (AmnesiaStore, AuditLog, RateLimiter) are interop's, bound by script_name.

export type EdgeEnv = ConfigEnv & StoreEnv & AuditEnv & RateLimiterEnv;

/** A WorkerEntrypoint: `fetch`, plus `readiness()` over RPC for the macronode gateway. */
export default serviceEntrypoint<EdgeEnv>({ service: "edge", facets: [edgeFacet], document: API_DOCUMENT });
