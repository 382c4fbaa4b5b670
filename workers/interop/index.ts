/**
 * @module interop as its own worker (the macronode shape): content-addressed objects over R2
 * by default. Deploy with `wrangler deploy -c workers/interop/wrangler.toml`. Only wires.
 */
import type { ConfigEnv } from "../../shared/config";
import { hardenedService } from "../../shared/service";
import { refreshStoreGauges, storeChecks, type StoreEnv } from "../../shared/store";
import { interopRoutes } from "./routes";

export { AmnesiaStore } from "../../durable-objects/amnesia-store";

export type InteropEnv = ConfigEnv & StoreEnv;

const fetch = hardenedService<InteropEnv>({
  service: "interop",
  routes: [interopRoutes],
  checks: storeChecks,
  features: (rc) => ["interop", rc.configResult.ok && !rc.configResult.config.AMNESIA ? "r2" : "amnesia"],
  beforeScrape: refreshStoreGauges,
});

export default { fetch } satisfies ExportedHandler<InteropEnv>;
