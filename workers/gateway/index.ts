/**
 * @module The macronode's public gateway: forwards each request to the interop, overlay or edge
 * worker over service bindings (docs/DEPLOY.md, docs/ARCHITECTURE.md), and serves its own ops
 * routes (/readyz answering for every service) and the API document. Only wires.
 */
import { createOpsRouter } from "../../shared/ops/routes";
import { pipeline, withBodyDrain, withCorrId, withErrorEnvelope, withHeaderCap, withMetrics, withNosniff, withOps } from "../../shared/middleware";
import { createApiDocsRouter } from "../../shared/openapi/serve";
import { serve } from "../../shared/worker";
// the macronode serves every facet's routes, as micronode does: the same document describes it
import API_DOCUMENT from "../micronode/openapi.json.txt";
import { forwardToService, serviceChecks, type GatewayEnv } from "./forward";

const ops = createOpsRouter({ checks: serviceChecks, features: () => ["gateway", "interop", "overlay", "edge"] });
const docs = createApiDocsRouter(API_DOCUMENT);

const handle = pipeline<GatewayEnv>(
  withNosniff(), //       X-Content-Type-Options on every answer
  withCorrId(), //        X-Corr-ID in and out, passed on to the service
  withMetrics(), //       golden metrics of the gateway itself
  withBodyDrain(), //     a refused request's body is drained (keep-alive survives)
  withErrorEnvelope(), // one JSON error envelope
  withHeaderCap(), //     oversized headers → 431
  withOps(ops), //        /healthz /readyz /version /metrics of the gateway
  withOps(docs), //       /openapi.json and /docs: the whole macronode's API
)(forwardToService);

export default { fetch: serve<GatewayEnv>("gateway", handle) } satisfies ExportedHandler<GatewayEnv>;
