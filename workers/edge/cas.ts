/**
 * @module `GET`/`HEAD /cas/blake3/:hex`: content-addressed objects by bare hex, immutable, read
 * group by group against their outboard tree (shared/store/verified-read).
 */
import { etagOf, isHex64 } from "../../shared/address";
import { configOf } from "../../shared/context";
import { malformed, notFound } from "../../shared/errors";
import { needsBody, representationStreamResponse } from "../../shared/http/representation";
import { sliceResponse, wantsProof } from "../../shared/http/slice-response";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor, type StoreContext } from "../../shared/store";
import { INLINE_READ_BYTES, openVerifiedRange } from "../../shared/store/verified-read";
import { casServeOptions } from "./serve-options";

const IMMUTABLE = "public, max-age=31536000, immutable";

export async function getCas(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const hex = request.params.hex ?? "";
  if (!isHex64(hex)) throw malformed("expected 64 lowercase hex digits of BLAKE3", "bad_address");
  const proof = wantsProof(request);
  const store = objectStoreFor(rc);
  const { VERIFY_GROUP_BYTES: groupBytes, STREAM_CHUNK_BYTES: chunkBytes } = configOf(rc);
  // size and type, and a small object's bytes, in one call; HEAD, 304 and 412 read no bytes
  const info = (proof && request.method !== "HEAD") || needsBody(request, etagOf(hex)) ? await store.peek(hex, Math.max(groupBytes, INLINE_READ_BYTES)) : await store.head(hex);
  if (!info) {
    metrics.edgeMisses.inc({ cause: "not_found" });
    throw notFound(`no object b3:${hex}`);
  }
  const rep = { etag: etagOf(hex), contentType: info.contentType, size: info.size, cacheControl: IMMUTABLE };
  metrics.edgeHits.inc({ kind: "cas" });
  // the bytes with their proof, checked against the address by the client (docs/OBJECTS.md)
  if (proof) return await sliceResponse(request, rc, store, hex, rep.etag, info, { groupBytes, chunkBytes });
  return representationStreamResponse(request, rep, (start, end) => openVerifiedRange(rc, store, hex, info, start, end, { groupBytes, chunkBytes }), casServeOptions(rc));
}
