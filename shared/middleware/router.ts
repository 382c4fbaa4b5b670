/**
 * @module Facet routers on itty-router: route templates become metric labels, and a path that
 * exists under other methods answers 405 with `Allow`.
 */
import { IttyRouter } from "itty-router/IttyRouter";
import type { Handler, RequestContext, RouteHandler } from "../context";
import { methodNotAllowed, notFound } from "../errors";

export type RouteRequest = Request & { params: Record<string, string>; route: string };
export type RoutedHandler = (request: RouteRequest, rc: RequestContext<any>) => Promise<Response>;

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
export function createRouter(table: RouteTable): RouteHandler {
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
  return (request, rc) => router.fetch(request, rc);
}

/** Final fallback: the 404 envelope for paths no router owns. */
export const routeNotFound: Handler = async (request) => {
  throw notFound(`no route for ${new URL(request.url).pathname}`);
};
