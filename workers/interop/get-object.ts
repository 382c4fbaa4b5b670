/**
 * @module `GET` and `HEAD /o/:addr`: immutable bytes with a strong ETag, ranges and conditionals
 * (shared/http/representation). A GET streams the groups its range covers, each checked against
 * the object's outboard tree before a byte of it is sent (shared/store/verified-read); a
 * mismatch is 502 INTEGRITY_FAIL before the first byte, a cut-short body after it, never a
 * complete 2xx of bad bytes. Anyone who can store can address an object, so active types (HTML,
 * SVG, script, …) are attachments under CSP sandbox. Repeats of a small object come from the
 * Cache API when `CACHE_OBJECTS` is on (shared/http/content-addressed).
 */
import { requireAddress } from "../../shared/address";
import { notFound } from "../../shared/errors";
import { serveAddressed } from "../../shared/http/content-addressed";
import type { ServeOptions } from "../../shared/http/representation";
import type { RouteRequest } from "../../shared/middleware";
import type { StoreContext } from "../../shared/store";

const SERVE: ServeOptions = { activeContent: "attachment" };

async function serveObject(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const answer = await serveAddressed(request, rc, hex, SERVE);
  if (!answer) throw notFound(`no object b3:${hex}`);
  return answer;
}

export const headObject = serveObject;
export const getObject = serveObject;
