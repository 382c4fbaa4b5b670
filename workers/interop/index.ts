/**
 * @module interop as its own worker (the macronode shape): content-addressed objects over R2
 * by default. Deploy with `wrangler deploy -c workers/interop/wrangler.toml`. Only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { hardenedService } from "../../shared/service";
import type { StoreEnv } from "../../shared/store";
import { interopFacet } from "./facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";

export type InteropEnv = ConfigEnv & StoreEnv;

const fetch = hardenedService<InteropEnv>({ service: "interop", facets: [interopFacet] });

export default { fetch } satisfies ExportedHandler<InteropEnv>;
