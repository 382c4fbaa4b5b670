/**
 * @module The edge facet: asset serving from the content-addressed store.
 */
import type { AuditEnv } from "../../shared/audit";
import type { ConfigEnv } from "../../shared/config";
import type { Facet } from "../../shared/facet";
import { PackError, packFor, packSpecs } from "../../shared/edge/packs";
import type { ReadinessCheck } from "../../shared/ops/readiness";
import { storeChecks, type StoreEnv } from "../../shared/store";
import { edgeRoutes } from "./routes";

/** `packs`: every configured PMTiles pack mounts (present, expected hash, valid header). */
/** What the edge facet needs of a worker's Env: the object store (assets, packs) and the audit log. */
export type EdgeFacetEnv = ConfigEnv & StoreEnv & AuditEnv;

const packsCheck: ReadinessCheck<StoreEnv & ConfigEnv> = {
  name: "packs",
  async run(rc) {
    if (!rc.configResult.ok) return { ok: true };
    const failures: string[] = [];
    for (const spec of packSpecs(rc)) {
      try {
        await packFor(rc, spec);
      } catch (error) {
        failures.push(error instanceof PackError ? error.message : `pack ${spec.name}: ${String(error)}`);
      }
    }
    return failures.length ? { ok: false, degraded: true, detail: failures.join("; ") } : { ok: true };
  },
};

export const edgeFacet: Facet<EdgeFacetEnv> = {
  routes: edgeRoutes,
  checks: [...storeChecks, packsCheck],
  features: () => ["edge"],
};
