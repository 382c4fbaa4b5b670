/**
 * @module The edge facet's routes: assets by path and objects by BLAKE3 hex.
 */
import { createRouter } from "../../shared/middleware";
import { getAsset, headAsset, putAsset } from "./assets";
import { getCas } from "./cas";

export const edgeRoutes = createRouter({
  "/edge/assets/*": { GET: getAsset, HEAD: headAsset, PUT: putAsset },
  "/cas/blake3/:hex": { GET: getCas, HEAD: getCas },
});
