/**
 * @module The edge facet's routes: assets by path, objects by BLAKE3 hex, tiles from PMTiles packs.
 */
import { createRouter } from "../../shared/middleware";
import { getAsset, headAsset, putAsset } from "./assets";
import { getCas } from "./cas";
import { getTile, getTileJson } from "./tiles";

export const edgeRoutes = createRouter({
  "/edge/assets/*": { GET: getAsset, HEAD: headAsset, PUT: putAsset },
  "/cas/blake3/:hex": { GET: getCas, HEAD: getCas },
  "/edge/tiles/:archive/:z/:x/:y.:ext": { GET: getTile, HEAD: getTile },
  "/edge/tiles/:archive.json": { GET: getTileJson },
});
