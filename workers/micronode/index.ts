/**
 * @module micronode: every facet in one worker, single tenant, amnesia (RAM-only) by default.
 * What `npm start` runs. This file only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { hardenedService } from "../../shared/service";
import type { StoreEnv } from "../../shared/store";
import { interopFacet } from "../interop/facet";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";

export type MicronodeEnv = ConfigEnv & StoreEnv;

const fetch = hardenedService<MicronodeEnv>({ service: "micronode", facets: [interopFacet] });

export default { fetch } satisfies ExportedHandler<MicronodeEnv>;
