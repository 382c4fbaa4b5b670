/**
 * @module interop as its own worker, one of the macronode's (docs/DEPLOY.md): content-addressed
 * objects over R2 by default. It defines the Durable Objects the other services bind by
 * script_name. Only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { serviceEntrypoint } from "../../shared/service-entrypoint";
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

/** A WorkerEntrypoint: `fetch`, plus `readiness()` over RPC for the macronode gateway. */
export default serviceEntrypoint<InteropEnv>({ service: "interop", facets: [interopFacet], document: API_DOCUMENT });
