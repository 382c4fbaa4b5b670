/**
 * @module The macronode's map of paths to services, and the RPC contract each service worker
 * offers the gateway over its service binding. Plain data and types: the gateway imports this
 * without any service's code.
 */
import type { ReadinessReport } from "../ops/readiness";

export type ServiceName = "interop" | "overlay" | "edge";

/** Path prefixes each service owns. A test checks that every route of every facet is covered. */
export const SERVICE_PREFIXES: Readonly<Record<ServiceName, readonly string[]>> = {
  interop: ["/o/", "/put", "/webhooks/", "/mailbox/", "/audit/", "/uploads"],
  overlay: ["/overlay"],
  edge: ["/edge/", "/cas/"],
};

/** The service that serves `pathname`, or null (the gateway answers 404). */
export function serviceFor(pathname: string): ServiceName | null {
  for (const [service, prefixes] of Object.entries(SERVICE_PREFIXES) as [ServiceName, readonly string[]][]) {
    for (const prefix of prefixes) {
      // "/put" owns "/put" and "/put/…", not "/putx"
      if (pathname === prefix || pathname.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`)) return service;
      if (prefix.endsWith("/") && pathname === prefix.slice(0, -1)) return service;
    }
  }
  return null;
}

/** What a service worker's entrypoint answers over RPC besides `fetch`. */
export interface ServiceRpc {
  /** The service's own readiness, as its /readyz computes it. */
  readiness(): Promise<ReadinessReport>;
}

/** A service binding to a service worker's entrypoint. */
export type ServiceBinding = Fetcher<ServiceRpc & Rpc.WorkerEntrypointBranded>;
