/**
 * @module The interop facet: content-addressed objects on the configured store.
 */
import type { AuditEnv } from "../../shared/audit";
import type { ConfigEnv } from "../../shared/config";
import type { Facet } from "../../shared/facet";
import { refreshMailboxGauges, type MailboxEnv } from "../../shared/mailbox/client";
import { refreshStoreGauges, storeChecks, type StoreEnv } from "../../shared/store";
import { refreshUploadGauges } from "../../shared/store/multipart";
import { interopRoutes } from "./routes";

/** What the interop facet needs of a worker's Env: the object store, the mailboxes, the audit log. */
export type InteropFacetEnv = ConfigEnv & StoreEnv & MailboxEnv & AuditEnv;

export const interopFacet: Facet<InteropFacetEnv> = {
  routes: interopRoutes,
  checks: storeChecks,
  features: (rc) => ["interop", rc.configResult.ok && !rc.configResult.config.AMNESIA ? "r2" : "amnesia"],
  beforeScrape: async (rc) => {
    await refreshStoreGauges(rc);
    await refreshUploadGauges(rc);
    await refreshMailboxGauges(rc);
  },
};
