/**
 * @module `GET`/`HEAD /cas/blake3/:hex`: content-addressed objects by bare hex, immutable, read
 * group by group against their outboard tree (shared/store/verified-read), repeats of a small
 * object from the Cache API when `CACHE_OBJECTS` is on (shared/http/content-addressed).
 */
import { isHex64 } from "../../shared/address";
import { malformed, notFound } from "../../shared/errors";
import { serveAddressed } from "../../shared/http/content-addressed";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import type { StoreContext } from "../../shared/store";
import { casServeOptions } from "./serve-options";

export async function getCas(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const hex = request.params.hex ?? "";
  if (!isHex64(hex)) throw malformed("expected 64 lowercase hex digits of BLAKE3", "bad_address");
  const answer = await serveAddressed(request, rc, hex, casServeOptions(rc));
  if (!answer) {
    metrics.edgeMisses.inc({ cause: "not_found" });
    throw notFound(`no object b3:${hex}`);
  }
  metrics.edgeHits.inc({ kind: "cas" });
  return answer;
}
