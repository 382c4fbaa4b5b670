/**
 * @module micronode: every facet in one worker, single tenant, amnesia (RAM-only) by default.
 * This file only wires: the stages in order, then the facet routers.
 */
import type { ConfigEnv } from "../../shared/config";
import {
  firstMatch,
  pipeline,
  routeNotFound,
  withBodyCap,
  withConfigGate,
  withCorrId,
  withErrorEnvelope,
  withInflightLimit,
  withMetrics,
  withOps,
  withTimeout,
} from "../../shared/middleware";
import { createOpsRouter } from "../../shared/ops/routes";
import { refreshStoreGauges, storeChecks, type StoreEnv } from "../../shared/store";
import { serve } from "../../shared/worker";
import { interopRoutes } from "../interop/routes";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";

export type MicronodeEnv = ConfigEnv & StoreEnv;

const ops = createOpsRouter({
  checks: storeChecks,
  features: (rc) => ["interop", rc.configResult.ok && !rc.configResult.config.AMNESIA ? "r2" : "amnesia"],
  beforeScrape: refreshStoreGauges,
});

const handle = pipeline(
  withCorrId(), //            prepare: X-Corr-ID in and out
  withMetrics(), //           golden metrics, with the real status of every answer
  withErrorEnvelope(), //     one exit: anything thrown becomes the JSON envelope
  withOps(ops), //            /healthz /readyz /version /metrics bypass admission
  withConfigGate(), //        invalid config → 503 NOT_READY
  withInflightLimit(), //     admission: in-flight cap
  withTimeout(), //           deadline for everything below
  withBodyCap(), //           declared Content-Length over the cap → 413
)(firstMatch([interopRoutes], routeNotFound));

export default { fetch: serve<MicronodeEnv>("micronode", handle) } satisfies ExportedHandler<MicronodeEnv>;
