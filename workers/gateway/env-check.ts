/**
 * @module Compile-time only (workers/gateway/tsconfig.json, `npm run typecheck`): `Env` here is what
 * `wrangler types` generated from ./wrangler.toml (./worker-configuration.d.ts, `npm run types`), and it
 * must have every binding GatewayEnv names: a service binding to each service. A binding missing from the config fails here.
 */
import type { GatewayEnv } from "./forward";

export const configBindsWhatTheWorkerNeeds = (env: Env): GatewayEnv => env;
