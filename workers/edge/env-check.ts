/**
 * @module Compile-time only (workers/edge/tsconfig.json, `npm run typecheck`): `Env` here is what
 * `wrangler types` generated from ./wrangler.toml (./worker-configuration.d.ts, `npm run types`), and it
 * must have every binding EdgeEnv names: the hardened path's bindings and the edge facet's. A binding missing from the config fails here.
 */
import type { EdgeEnv } from "./index";

export const configBindsWhatTheWorkerNeeds = (env: Env): EdgeEnv => env;
