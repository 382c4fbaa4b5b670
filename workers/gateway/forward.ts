/**
 * @module The gateway's one job: hand each request to the service that owns its path, over that
 * service's binding, with the request's correlation id, and answer 404 for paths no service owns.
 * Admission (rate limits, brownout, in-flight caps) is the services' own: the gateway adds no
 * second bucket a request would have to pass.
 */
import type { Handler, RequestContext } from "../../shared/context";
import { serviceFor, type ServiceBinding, type ServiceName } from "../../shared/macronode/services";
import { routeNotFound } from "../../shared/middleware";
import type { ReadinessCheck } from "../../shared/ops/readiness";
import type { ConfigEnv } from "../../shared/config";

export interface GatewayEnv extends ConfigEnv {
  INTEROP: ServiceBinding;
  OVERLAY: ServiceBinding;
  EDGE: ServiceBinding;
}

const BINDINGS: Record<ServiceName, keyof Pick<GatewayEnv, "INTEROP" | "OVERLAY" | "EDGE">> = { interop: "INTEROP", overlay: "OVERLAY", edge: "EDGE" };

export const forwardToService: Handler<GatewayEnv> = async (request, rc) => {
  const service = serviceFor(new URL(request.url).pathname);
  if (!service) return await routeNotFound(request, rc);
  rc.route = `${service}:*`;
  const headers = new Headers(request.headers);
  headers.set("X-Corr-ID", rc.corrId);
  return rc.env[BINDINGS[service]].fetch(new Request(request, { headers }));
};

/** The gateway is ready when every service is; each service's verdict comes over RPC. */
export const serviceChecks: ReadinessCheck<GatewayEnv>[] = (Object.keys(BINDINGS) as ServiceName[]).map((service) => ({
  name: service,
  async run(rc: RequestContext<GatewayEnv>) {
    const report = await rc.env[BINDINGS[service]].readiness();
    if (report.ready) return { ok: true };
    return { ok: false, degraded: report.degraded, detail: `${service} not ready: ${report.missing.join(", ")}` };
  },
}));
