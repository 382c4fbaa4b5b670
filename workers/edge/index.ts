/**
 * @module edge as its own worker (the macronode shape): assets over R2. Deploy with
 * `wrangler deploy -c workers/edge/wrangler.toml`. Only wires.
 */
import type { AuditEnv } from "../../shared/audit";
import type { ConfigEnv } from "../../shared/config";
import type { RateLimiterEnv } from "../../shared/middleware/with-rate-limit";
import { hardenedService } from "../../shared/service";
import API_DOCUMENT from "./openapi.json.txt";
import type { StoreEnv } from "../../shared/store";
import { edgeFacet } from "./facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";
export { AuditLog } from "../../durable-objects/audit-log";
export { RateLimiter } from "../../durable-objects/rate-limiter";

export type EdgeEnv = ConfigEnv & StoreEnv & AuditEnv & RateLimiterEnv;

const fetch = hardenedService<EdgeEnv>({ service: "edge", facets: [edgeFacet], document: API_DOCUMENT });

export default { fetch } satisfies ExportedHandler<EdgeEnv>;
