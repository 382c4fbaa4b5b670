/**
 * @module `GET` and `HEAD /o/:addr`: immutable bytes with a strong ETag, ranges and conditionals
 * (shared/http/representation). A GET streams the groups its range covers, each checked against
 * the object's outboard tree before a byte of it is sent (shared/store/verified-read); a
 * mismatch is 502 INTEGRITY_FAIL before the first byte, a cut-short body after it, never a
 * complete 2xx of bad bytes. With `?proof=1` the answer is a verified slice instead
 * (shared/http/slice-response): the range's bytes with the proof a client checks them by.
 * Anyone who can store can address an object, so active types (HTML, SVG, script, …) are
 * attachments under CSP sandbox.
 */
import { etagOf, requireAddress } from "../../shared/address";
import { configOf } from "../../shared/context";
import { notFound } from "../../shared/errors";
import { needsBody, representationResponse, representationStreamResponse, type Representation, type ServeOptions } from "../../shared/http/representation";
import { sliceResponse, wantsProof } from "../../shared/http/slice-response";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor, type ObjectInfo, type StoreContext } from "../../shared/store";
import { INLINE_READ_BYTES, openVerifiedRange } from "../../shared/store/verified-read";

const IMMUTABLE = "public, max-age=31536000, immutable";
const SERVE: ServeOptions = { activeContent: "attachment" };

const representationOf = (hex: string, info: ObjectInfo): Representation => ({ etag: etagOf(hex), contentType: info.contentType, size: info.size, cacheControl: IMMUTABLE });

const readOptions = (rc: StoreContext) => ({ groupBytes: configOf(rc).VERIFY_GROUP_BYTES, chunkBytes: configOf(rc).STREAM_CHUNK_BYTES });

export async function headObject(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const proof = wantsProof(request);
  const store = objectStoreFor(rc);
  const info = await store.head(hex);
  if (!info) throw notFound(`no object b3:${hex}`);
  if (proof) return await sliceResponse(request, rc, store, hex, etagOf(hex), info, readOptions(rc));
  return representationResponse(request, representationOf(hex, info), null, SERVE);
}

export async function getObject(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const proof = wantsProof(request);
  const store = objectStoreFor(rc);
  const { VERIFY_GROUP_BYTES: groupBytes, STREAM_CHUNK_BYTES: chunkBytes } = configOf(rc);
  // size and type, and a small object's bytes, in one call; a 304 or 412 reads no bytes
  const info = proof || needsBody(request, etagOf(hex)) ? await store.peek(hex, Math.max(groupBytes, INLINE_READ_BYTES)) : await store.head(hex);
  if (!info) throw notFound(`no object b3:${hex}`);
  // the bytes with their proof, to be checked against the address by the client (docs/OBJECTS.md)
  if (proof) return await sliceResponse(request, rc, store, hex, etagOf(hex), info, { groupBytes, chunkBytes });
  // only the range's groups are read; a 304 or 412 reads none
  return representationStreamResponse(request, representationOf(hex, info), (start, end) => openVerifiedRange(rc, store, hex, info, start, end, { groupBytes, chunkBytes }), SERVE);
}
