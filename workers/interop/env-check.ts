/**
 * @module Compile-time only (workers/interop/tsconfig.json, `npm run typecheck`): `Env` here is what
 * `wrangler types` generated from ./wrangler.toml (./worker-configuration.d.ts, `npm run types`), and it
 * must have every binding InteropEnv names: the hardened path's bindings and the interop facet's. A binding missing from the config fails here.
 */
import type { InteropEnv } from "./index";

export const configBindsWhatTheWorkerNeeds = (env: Env): InteropEnv => env;
