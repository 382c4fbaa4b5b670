/**
 * @module The edge facet: asset serving from the content-addressed store.
 */
import type { Facet } from "../../shared/facet";
import { storeChecks } from "../../shared/store";
import { edgeRoutes } from "./routes";

export const edgeFacet: Facet = {
  routes: edgeRoutes,
  checks: storeChecks,
  features: () => ["edge"],
};
