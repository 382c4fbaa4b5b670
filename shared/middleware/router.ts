/**
 * @module Facet routers on itty-router: route templates become metric labels, and a path that
 * exists under other methods answers 405 with `Allow`.
 */
import { IttyRouter } from "itty-router/IttyRouter";
import type { Handler, RequestContext, RouteHandler } from "../context";
import { methodNotAllowed, notFound } from "../errors";

export type RouteRequest = Request & { params: Record<string, string>; route: string };
export type RoutedHandler = (request: RouteRequest, rc: RequestContext<any>) => Promise<Response>;

/** One route a router serves: the method and the template it was registered under. */
export interface RouteEntry {
  method: string;
  template: string;
}

/** A facet router, which also lists the routes it registered (for the API document's check). */
export type Router = RouteHandler & { readonly routes: readonly RouteEntry[] };

export interface RouteTable {
  [template: string]: Partial<Record<"GET" | "HEAD" | "POST" | "PUT" | "DELETE", RoutedHandler>>;
}

/** Every route template any router serves, to label requests refused before routing. */
const knownTemplates: { pattern: RegExp; template: string }[] = [];

function templatePattern(template: string): RegExp {
  const escaped = template.split("/").map((part) => (part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${escaped.join("/")}/?$`);
}

/** The route template a path belongs to, or "unmatched" (bounded label values for metrics). */
export function routeTemplateOf(pathname: string): string {
  return knownTemplates.find((t) => t.pattern.test(pathname))?.template ?? "unmatched";
}

/** Build a RouteHandler from `{ "/o/:addr": { GET: getObject, HEAD: headObject } }`. */
export function createRouter(table: RouteTable): Router {
  const router = IttyRouter();
  for (const [template, methods] of Object.entries(table)) {
    knownTemplates.push({ pattern: templatePattern(template), template });
    const allowed = Object.keys(methods);
    for (const [method, handler] of Object.entries(methods)) {
      router[method.toLowerCase() as "get"](template, (request: RouteRequest, rc: RequestContext<any>) => {
        rc.route = request.route;
        return handler!(request, rc);
      });
    }
    router.all(template, (request: RouteRequest, rc: RequestContext<any>) => {
      rc.route = request.route;
      throw methodNotAllowed(allowed);
    });
  }
  // read back from itty's own table ([method, regex, handlers, template]): what it will match, not what we meant
  const routes = router.routes.filter(([method]) => method !== "ALL").map(([method, , , template]) => ({ method, template: template ?? "" }));
  const handle: RouteHandler = (request, rc) => router.fetch(request, rc);
  return Object.assign(handle, { routes });
}

/** Final fallback: the 404 envelope for paths no router owns. */
export const routeNotFound: Handler = async (request) => {
  throw notFound(`no route for ${new URL(request.url).pathname}`);
};
