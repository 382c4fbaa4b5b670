/**
 * @module Compile-time only (workers/micronode/tsconfig.json, `npm run typecheck`): `Env` here is what
 * `wrangler types` generated from /wrangler.toml (./worker-configuration.d.ts, `npm run types`), and it
 * must have every binding MicronodeEnv names: the hardened path's bindings and every facet (interop, overlay, edge)'s. A binding missing from the config fails here.
 */
import type { MicronodeEnv } from "./index";

export const configBindsWhatTheWorkerNeeds = (env: Env): MicronodeEnv => env;
