/**
 * @module micronode: every facet in one worker, single tenant, amnesia (RAM-only) by default.
 * What `npm start` runs. This file only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { hardenedService } from "../../shared/service";
import { refreshStoreGauges, storeChecks, type StoreEnv } from "../../shared/store";
import { interopRoutes } from "../interop/routes";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";

export type MicronodeEnv = ConfigEnv & StoreEnv;

const fetch = hardenedService<MicronodeEnv>({
  service: "micronode",
  routes: [interopRoutes],
  checks: storeChecks,
  features: (rc) => ["interop", rc.configResult.ok && !rc.configResult.config.AMNESIA ? "r2" : "amnesia"],
  beforeScrape: refreshStoreGauges,
});

export default { fetch } satisfies ExportedHandler<MicronodeEnv>;
