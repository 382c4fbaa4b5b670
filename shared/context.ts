/**
 * @module The per-request context every middleware and handler receives, and the handler
 * shapes that compose into a worker.
 */
import { shed } from "./errors";
import { loadConfig, type Config, type ConfigEnv, type ConfigResult } from "./config";
import { RequestTiming } from "./timing";

export interface RequestContext<E extends ConfigEnv = ConfigEnv> {
  readonly env: E;
  readonly exec: ExecutionContext;
  /** The worker's name in metrics and logs: interop, overlay, edge, micronode. */
  readonly service: string;
  readonly configResult: ConfigResult;
  /** Correlation id: taken from the request or generated (see withCorrId). */
  corrId: string;
  /** Route template for metric labels (`/o/:addr`), or `unmatched`. */
  route: string;
  /** The request URL's pathname, parsed once (see `pathnameOf`). */
  pathname?: string;
  /** Aborted when the request's deadline passes; long work checks it and stops. */
  readonly signal: AbortSignal;
  abort(reason: unknown): void;
  /** Where this request spent its time, for `Server-Timing` and the Analytics Engine point. */
  readonly timing: RequestTiming;
}

/** Valid configuration; throws 503 NOT_READY when the configuration is invalid. */
export function configOf(rc: Pick<RequestContext, "configResult">): Config {
  if (rc.configResult.ok) return rc.configResult.config;
  throw shed(503, "NOT_READY", `invalid configuration: ${rc.configResult.errors.join("; ")}`, 30_000);
}

/** A handler that needs the bindings of `E`: it serves any worker whose Env has at least those. */
export type Handler<E extends ConfigEnv = ConfigEnv> = (request: Request, rc: RequestContext<E>) => Promise<Response>;
/** A facet or sub-router: a Response when it owns the request, undefined to pass it on. */
export type RouteHandler<E extends ConfigEnv = ConfigEnv> = (request: Request, rc: RequestContext<E>) => Promise<Response | undefined>;
/**
 * A stage that needs the bindings of `E`; generic in the worker's Env so that a pipeline over a
 * wider Env can use it (and one over an Env lacking `E`'s bindings cannot).
 */
export type Middleware<E extends ConfigEnv = ConfigEnv> = <W extends E>(next: Handler<W>) => Handler<W>;

export function createContext<E extends ConfigEnv>(env: E, exec: ExecutionContext, service: string): RequestContext<E> {
  const controller = new AbortController();
  return {
    env,
    exec,
    service,
    configResult: loadConfig(env),
    corrId: "",
    route: "unmatched",
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    timing: new RequestTiming(),
  };
}
