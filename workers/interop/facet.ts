/**
 * @module The interop facet: content-addressed objects on the configured store.
 */
import type { Facet } from "../../shared/facet";
import { refreshMailboxGauges } from "../../shared/mailbox/client";
import { refreshStoreGauges, storeChecks } from "../../shared/store";
import { refreshUploadGauges } from "../../shared/store/multipart";
import { interopRoutes } from "./routes";

export const interopFacet: Facet = {
  routes: interopRoutes,
  checks: storeChecks,
  features: (rc) => ["interop", rc.configResult.ok && !rc.configResult.config.AMNESIA ? "r2" : "amnesia"],
  beforeScrape: async (rc) => {
    await refreshStoreGauges(rc);
    await refreshUploadGauges(rc);
    await refreshMailboxGauges(rc);
  },
};
