/**
 * @module micronode: every facet in one worker, single tenant, amnesia (RAM-only) by default.
 * What `npm start` runs. This file only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { hardenedService } from "../../shared/service";
import API_DOCUMENT from "./openapi.json.txt";
import type { AuditEnv } from "../../shared/audit";
import type { MailboxEnv } from "../../shared/mailbox/client";
import type { RateLimiterEnv } from "../../shared/middleware/with-rate-limit";
import type { StoreEnv } from "../../shared/store";
import { edgeFacet } from "../edge/facet";
import { interopFacet } from "../interop/facet";
import { overlayFacet } from "../overlay/facet";
import type { OverlaySessionEnv } from "../../durable-objects/overlay-session";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";
export { AuditLog } from "../../durable-objects/audit-log";
export { GossipHub } from "../../durable-objects/gossip-hub";
export { Mailbox } from "../../durable-objects/mailbox";
export { OverlaySession } from "../../durable-objects/overlay-session";
export { RateLimiter } from "../../durable-objects/rate-limiter";

export type MicronodeEnv = ConfigEnv & StoreEnv & MailboxEnv & AuditEnv & RateLimiterEnv & OverlaySessionEnv;

const fetch = hardenedService<MicronodeEnv>({ service: "micronode", facets: [interopFacet, overlayFacet, edgeFacet], document: API_DOCUMENT });

export default { fetch } satisfies ExportedHandler<MicronodeEnv>;
