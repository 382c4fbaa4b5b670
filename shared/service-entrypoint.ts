/**
 * @module A service worker as a WorkerEntrypoint: `fetch` runs the hardened request path, and the
 * macronode's gateway also calls `readiness()` over the service binding (RPC) to build its own
 * /readyz from every service's.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { createContext } from "./context";
import type { ServiceRpc } from "./macronode/services";
import { authCheck, configCheck, evaluateReadiness, type ReadinessReport } from "./ops/readiness";
import { facetChecks, hardenedService, type ServiceEnv, type ServiceOptions } from "./service";

export function serviceEntrypoint<E extends ServiceEnv>(options: ServiceOptions<E>) {
  const handle = hardenedService<E>(options);
  const checks = [configCheck, authCheck, ...facetChecks(options.facets)];
  return class ServiceEntrypoint extends WorkerEntrypoint<E> implements ServiceRpc {
    /** Every route the service's routers registered (the API document's test reads it). */
    static readonly routes = handle.routes;

    override fetch(request: Request): Promise<Response> {
      return handle(request, this.env, this.ctx);
    }

    readiness(): Promise<ReadinessReport> {
      return evaluateReadiness(checks, createContext(this.env, this.ctx, options.service));
    }
  };
}
