/**
 * @module The interop facet's routes: content-addressed objects. Mounted by the interop worker
 * and by micronode.
 */
import { createRouter } from "../../shared/middleware";
import { getObject, headObject } from "./get-object";
import { putObject } from "./put-object";

export const interopRoutes = createRouter({
  "/o/:addr": { GET: getObject, HEAD: headObject },
  "/put": { POST: putObject },
});
