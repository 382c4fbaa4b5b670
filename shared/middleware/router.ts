/**
 * @module Facet routers on itty-router: route templates become metric labels, and a path that
 * exists under other methods answers 405 with `Allow`.
 */
import { IttyRouter } from "itty-router/IttyRouter";
import type { ConfigEnv } from "../config";
import type { Handler, RequestContext, RouteHandler } from "../context";
import { methodNotAllowed, notFound } from "../errors";

export type RouteRequest = Request & { params: Record<string, string>; route: string };
export type RoutedHandler<E extends ConfigEnv = ConfigEnv> = (request: RouteRequest, rc: RequestContext<E>) => Promise<Response>;

/** One route a router serves: the method and the template it was registered under. */
export interface RouteEntry {
  method: string;
  template: string;
}

/** A facet router, which also lists the routes it registered (for the API document's check). */
export type Router<E extends ConfigEnv = ConfigEnv> = RouteHandler<E> & { readonly routes: readonly RouteEntry[] };

/** Routes whose handlers need at most the bindings of `E`. */
export interface RouteTable<E extends ConfigEnv = ConfigEnv> {
  [template: string]: Partial<Record<"GET" | "HEAD" | "POST" | "PUT" | "DELETE", RoutedHandler<E>>>;
}

/** The request's URL pathname, parsed once per request and shared by every stage and router. */
export function pathnameOf(request: Request, rc: Pick<RequestContext, "pathname">): string {
  return (rc.pathname ??= new URL(request.url).pathname);
}

/**
 * The literal first segment of a template (`/edge/tiles/:z` → `edge`), or null when it is a
 * parameter or wildcard. A path can match the template only if its first segment is exactly this
 * (the patterns here and itty-router's are anchored and case-sensitive, `/` is literal).
 */
function literalHead(template: string): string | null {
  const head = template.split("/")[1] ?? "";
  return /[:*]/.test(head) ? null : head;
}

/** A path's first segment: what `literalHead` is compared with. */
function headOf(pathname: string): string {
  const end = pathname.indexOf("/", 1);
  return pathname.slice(1, end === -1 ? undefined : end);
}

/** Every route template any router serves, to label requests refused before routing. */
const knownTemplates: { pattern: RegExp; template: string; order: number }[] = [];
/** The same, by literal first segment; templates without one are tried for every path. */
const templatesByHead = new Map<string, typeof knownTemplates>();
const templatesAnyHead: typeof knownTemplates = [];

function templatePattern(template: string): RegExp {
  const escaped = template.split("/").map((part) => (part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${escaped.join("/")}/?$`);
}

function addKnownTemplate(template: string): void {
  const known = { pattern: templatePattern(template), template, order: knownTemplates.length };
  knownTemplates.push(known);
  const head = literalHead(template);
  if (head === null) templatesAnyHead.push(known);
  else templatesByHead.set(head, [...(templatesByHead.get(head) ?? []), known]);
}

/** The route template a path belongs to, or "unmatched" (bounded label values for metrics): the first registered that matches. */
export function routeTemplateOf(pathname: string): string {
  let found: (typeof knownTemplates)[number] | undefined;
  for (const candidates of [templatesByHead.get(headOf(pathname)) ?? [], templatesAnyHead]) {
    for (const t of candidates) {
      if (found && t.order > found.order) break;
      if (t.pattern.test(pathname)) found = t;
    }
  }
  return found?.template ?? "unmatched";
}

/** Build a RouteHandler from `{ "/o/:addr": { GET: getObject, HEAD: headObject } }`. */
export function createRouter<E extends ConfigEnv>(table: RouteTable<E>): Router<E> {
  const router = IttyRouter();
  // the first segments this router's templates can match (null: any), so that the facets'
  // routers a request cannot belong to are skipped without running itty-router (a URL parse
  // and a walk of every route each)
  let heads: Set<string> | null = new Set();
  for (const [template, methods] of Object.entries(table)) {
    addKnownTemplate(template);
    const head = literalHead(template);
    if (head === null) heads = null;
    else heads?.add(head);
    const allowed = Object.keys(methods);
    for (const [method, handler] of Object.entries(methods)) {
      router[method.toLowerCase() as "get"](template, (request: RouteRequest, rc: RequestContext<E>) => {
        rc.route = request.route;
        return handler!(request, rc);
      });
    }
    router.all(template, (request: RouteRequest, rc: RequestContext<E>) => {
      rc.route = request.route;
      throw methodNotAllowed(allowed);
    });
  }
  // read back from itty's own table ([method, regex, handlers, template]): what it will match, not what we meant
  const routes = router.routes.filter(([method]) => method !== "ALL").map(([method, , , template]) => ({ method, template: template ?? "" }));
  const handle: RouteHandler<E> = async (request, rc) => (heads && !heads.has(headOf(pathnameOf(request, rc))) ? undefined : await router.fetch(request, rc));
  return Object.assign(handle, { routes });
}

/** Final fallback: the 404 envelope for paths no router owns. */
export const routeNotFound: Handler = async (request) => {
  throw notFound(`no route for ${new URL(request.url).pathname}`);
};
