/**
 * @module Compile-time only (workers/overlay/tsconfig.json, `npm run typecheck`): `Env` here is what
 * `wrangler types` generated from ./wrangler.toml (./worker-configuration.d.ts, `npm run types`), and it
 * must have every binding OverlayEnv names: the hardened path's bindings and the overlay facet's. A binding missing from the config fails here.
 */
import type { OverlayEnv } from "./index";

export const configBindsWhatTheWorkerNeeds = (env: Env): OverlayEnv => env;
