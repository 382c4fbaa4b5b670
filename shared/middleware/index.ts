/** @module The shared request pipeline stages, in the order workers list them. */
export { pipeline, firstMatch } from "./pipeline";
export { createRouter, routeNotFound, type RouteTable, type RouteRequest } from "./router";
export { withNosniff } from "./with-nosniff";
export { withCorrId } from "./with-corr-id";
export { withMetrics } from "./with-metrics";
export { withBodyDrain } from "./with-body-drain";
export { withErrorEnvelope } from "./with-error-envelope";
export { withOps } from "./with-ops";
export { withConfigGate } from "./with-config-gate";
export { withInflightLimit } from "./with-inflight-limit";
export { withRateLimit } from "./with-rate-limit";
export { withBrownout } from "./with-brownout";
export { withTimeout } from "./with-timeout";
export { withBodyCap } from "./with-body-cap";
export { withHeaderCap } from "./with-header-cap";
