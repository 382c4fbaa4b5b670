/**
 * @module interop as its own worker (the macronode shape): content-addressed objects over R2
 * by default. Deploy with `wrangler deploy -c workers/interop/wrangler.toml`. Only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { hardenedService } from "../../shared/service";
import API_DOCUMENT from "./openapi.json.txt";
import type { AuditEnv } from "../../shared/audit";
import type { MailboxEnv } from "../../shared/mailbox/client";
import type { RateLimiterEnv } from "../../shared/middleware/with-rate-limit";
import type { StoreEnv } from "../../shared/store";
import { interopFacet } from "./facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";
export { AuditLog } from "../../durable-objects/audit-log";
export { Mailbox } from "../../durable-objects/mailbox";
export { RateLimiter } from "../../durable-objects/rate-limiter";

export type InteropEnv = ConfigEnv & StoreEnv & MailboxEnv & AuditEnv & RateLimiterEnv;

const fetch = hardenedService<InteropEnv>({ service: "interop", facets: [interopFacet], document: API_DOCUMENT });

export default { fetch } satisfies ExportedHandler<InteropEnv>;
