/**
 * @module Turns a composed handler into a Worker `fetch`: builds the request context (config,
 * deadline signal) that every stage shares.
 */
import type { ConfigEnv } from "./config";
import { createContext, type Handler } from "./context";

export function serve<E extends ConfigEnv>(service: string, handler: Handler<E>) {
  return async function fetch(request: Request, env: E, exec: ExecutionContext): Promise<Response> {
    return handler(request, createContext(env, exec, service));
  };
}
