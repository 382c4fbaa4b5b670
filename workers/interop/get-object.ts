/**
 * @module `GET` and `HEAD /o/:addr`: immutable bytes with a strong ETag, ranges and conditionals
 * (shared/http/representation). Every GET re-hashes the stored bytes before serving them; a
 * mismatch is 502 INTEGRITY_FAIL, never a complete 200 of bad bytes. Anyone who can store can
 * address an object, so active types (HTML, SVG, script, …) are attachments under CSP sandbox.
 */
import { etagOf, requireAddress } from "../../shared/address";
import type { RequestContext } from "../../shared/context";
import { notFound } from "../../shared/errors";
import { needsBody, representationResponse, type Representation, type ServeOptions } from "../../shared/http/representation";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor, type ObjectInfo } from "../../shared/store";
import { readVerified } from "../../shared/store/verified-read";

const IMMUTABLE = "public, max-age=31536000, immutable";
const SERVE: ServeOptions = { activeContent: "attachment" };

const representationOf = (hex: string, info: ObjectInfo): Representation => ({ etag: etagOf(hex), contentType: info.contentType, size: info.size, cacheControl: IMMUTABLE });

export async function headObject(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const info = await objectStoreFor(rc).head(hex);
  if (!info) throw notFound(`no object b3:${hex}`);
  return representationResponse(request, representationOf(hex, info), null, SERVE);
}

export async function getObject(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const store = objectStoreFor(rc);
  // A conditional GET that may end in 304 or 412 must not read the body.
  if (!needsBody(request, etagOf(hex))) {
    const info = await store.head(hex);
    if (!info) throw notFound(`no object b3:${hex}`);
    return representationResponse(request, representationOf(hex, info), null, SERVE);
  }
  const object = await readVerified(rc, store, hex);
  return representationResponse(request, representationOf(hex, object), object.bytes, SERVE);
}
