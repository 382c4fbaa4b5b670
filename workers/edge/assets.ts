/**
 * @module `GET`/`HEAD /edge/assets/*` from the asset index and the content-addressed store, with
 * ranges and conditionals; `PUT /edge/assets/*` publishes (capability op `edge.put`, path under the token's `prefix`).
 */
import { etagOf, isHex64 } from "../../shared/address";
import { liveFill } from "../../shared/edge/live-fill";
import { audit, type AuditEnv } from "../../shared/audit";
import { parseContentCoding } from "../../shared/body/content-coding";
import { bodyLimitsOf, readDecodedBody } from "../../shared/body/read-body";
import type { ConfigEnv } from "../../shared/config";
import { configOf, type RequestContext } from "../../shared/context";
import { assetIndexFor, type AssetEntry } from "../../shared/edge/asset-index";
import { assetPathOf, contentTypeOf } from "../../shared/edge/asset-path";
import { forgetPackPointer } from "../../shared/edge/packs";
import { badRequest, HttpError, JSON_CONTENT_TYPE, notFound, storeFull } from "../../shared/errors";
import { representationResponse, representationStreamResponse, type Representation } from "../../shared/http/representation";
import { sliceResponse, wantsProof } from "../../shared/http/slice-response";
import { metrics } from "../../shared/metrics";
import { declaredBodyBytes, requireAlso, requireCapability } from "../../shared/middleware/require-capability";
import type { VerifiedToken } from "../../shared/capability";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor, type StoreContext, type StoreEnv } from "../../shared/store";
import { keepOutboardOf, openVerifiedRange, type VerifiedReadOptions } from "../../shared/store/verified-read";
import { assetServeOptions } from "./serve-options";

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/;

async function lookup(request: Request, rc: StoreContext): Promise<{ entry: AssetEntry; rep: Representation }> {
  const path = assetPathOf(request.url);
  let entry = await assetIndexFor(rc).get(path);
  const expected = new URL(request.url).searchParams.get("b3");
  if (expected !== null && !isHex64(expected)) throw badRequest("b3 must be 64 lowercase hex digits", "bad_address");
  if (!entry && configOf(rc).EDGE_MODE === "live") {
    metrics.edgeMisses.inc({ cause: "live_fill" });
    entry = await liveFill(rc, path, expected);
  } else if (!entry) {
    metrics.edgeMisses.inc({ cause: "not_found" });
    throw notFound(`no asset ${path}`);
  }
  requirePinned(entry, expected);
  return { entry, rep: { etag: etagOf(entry.b3), contentType: entry.type, size: entry.size, cacheControl: configOf(rc).EDGE_CACHE_CONTROL } };
}

/**
 * A `?b3=` pin holds on every request, not only on a live-fill miss: a path that points at other
 * bytes (cached, published or filled) is 502 INTEGRITY_FAIL, never a 200 of unpinned bytes.
 */
function requirePinned(entry: AssetEntry, expected: string | null): void {
  if (expected === null || entry.b3 === expected) return;
  metrics.edgeMisses.inc({ cause: "pin_mismatch" });
  throw new HttpError(502, "INTEGRITY_FAIL", `asset is b3:${entry.b3}, the request pinned b3:${expected}`, { reason: "pin_mismatch", retryable: false });
}

export async function getAsset(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const proof = wantsProof(request);
  const { entry, rep } = await lookup(request, rc);
  const store = objectStoreFor(rc);
  const info = { size: entry.size, contentType: entry.type };
  const options = verifyOptionsOf(rc);
  metrics.edgeHits.inc({ kind: "asset" });
  // the asset's bytes with their proof: checkable end to end against the address it is pinned to (`?b3=`)
  if (proof) return await sliceResponse(request, rc, store, entry.b3, rep.etag, info, options);
  // only the range's groups are read, each checked against the object's outboard tree
  return representationStreamResponse(request, rep, (start, end) => openVerifiedRange(rc, store, entry.b3, info, start, end, options), assetServeOptions(rc));
}

function verifyOptionsOf(rc: RequestContext): VerifiedReadOptions {
  const { VERIFY_GROUP_BYTES: groupBytes, STREAM_CHUNK_BYTES: chunkBytes } = configOf(rc);
  return { groupBytes, chunkBytes };
}

export async function headAsset(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const proof = wantsProof(request);
  const { entry, rep } = await lookup(request, rc);
  metrics.edgeHits.inc({ kind: "asset" });
  if (proof) {
    const { VERIFY_GROUP_BYTES: groupBytes, STREAM_CHUNK_BYTES: chunkBytes } = configOf(rc);
    return await sliceResponse(request, rc, objectStoreFor(rc), entry.b3, rep.etag, { size: entry.size, contentType: entry.type }, { groupBytes, chunkBytes });
  }
  return representationResponse(request, rep, null, assetServeOptions(rc));
}

/** The asset's type: the request's Content-Type, unless it says nothing about the asset (then by the path's extension). */
function assetTypeOf(request: Request, path: string): string {
  const declaredType = (request.headers.get("content-type") ?? "").trim();
  if (declaredType && !MEDIA_TYPE.test(declaredType)) throw badRequest("Content-Type is not a media type", "bad_content_type");
  // octet-stream, or curl's default form type, says nothing about the asset: infer from the path
  const generic = !declaredType || /^application\/(octet-stream|x-www-form-urlencoded)\b/i.test(declaredType);
  return generic ? contentTypeOf(path) : declaredType;
}

export async function putAsset(request: RouteRequest, rc: RequestContext<StoreEnv & AuditEnv & ConfigEnv>): Promise<Response> {
  const path = assetPathOf(request.url);
  const token = requireCapability(request, rc, { op: "edge.put", path, bytes: declaredBodyBytes(request) });
  const pinned = new URL(request.url).searchParams.get("b3");
  if (pinned !== null) return await pointAsset(request, rc, path, pinned, token);
  if (!request.body) throw badRequest("PUT /edge/assets/* needs a body", "empty_body");
  const type = assetTypeOf(request, path);
  const declared = request.headers.has("content-length") ? Number(request.headers.get("content-length")) : undefined;
  const body = await readDecodedBody(request.body, parseContentCoding(request.headers.get("content-encoding")), bodyLimitsOf(configOf(rc)), rc.signal, declared);
  rc.timing.add("hash", body.hashMs);
  if (rc.signal.aborted) throw rc.signal.reason;

  const store = objectStoreFor(rc);
  const outcome = await store.put(body.hex, body.bytes, type);
  metrics.edgeCasWrites.inc({ status: outcome.status });
  if (outcome.status === "full") {
    throw storeFull(outcome);
  }
  // the outboard now, from the bytes in hand: a pack's first tile then reads only its groups
  if (outcome.status === "created") await keepOutboardOf(rc, store, body.hex, body.bytes, verifyOptionsOf(rc));
  return await publishEntry(rc, path, { b3: body.hex, size: body.bytes.length, type });
}

/**
 * `PUT /edge/assets/<path>?b3=<hex>` without a body: point the path at an object already stored
 * (one too large for a request body, sent with a multipart upload first). The object was checked
 * against its address when it was stored.
 */
async function pointAsset(request: Request, rc: RequestContext<StoreEnv & AuditEnv & ConfigEnv>, path: string, hex: string, token: VerifiedToken): Promise<Response> {
  if (!isHex64(hex)) throw badRequest("b3 must be 64 lowercase hex digits", "bad_address");
  const declared = request.headers.get("content-length");
  if (declared !== null && declared.trim() !== "0") throw badRequest("with ?b3= the path points at a stored object: send no body", "body_with_b3");
  const type = assetTypeOf(request, path);
  const info = await objectStoreFor(rc).head(hex);
  if (!info) throw notFound(`no object b3:${hex}: store it first (PUT /o/b3:<hex> or POST /uploads)`);
  requireAlso(token, { op: "edge.put", path, bytes: info.size });
  return await publishEntry(rc, path, { b3: hex, size: info.size, type });
}

/** Point `path` at `entry` (unless it already does) and answer as a publish does. */
async function publishEntry(rc: RequestContext<StoreEnv & AuditEnv & ConfigEnv>, path: string, entry: AssetEntry): Promise<Response> {
  const index = assetIndexFor(rc);
  const previous = await index.get(path);
  const unchanged = previous?.b3 === entry.b3 && previous.type === entry.type;
  if (!unchanged) {
    const indexed = await index.put(path, entry);
    if (indexed.status === "full") {
      throw storeFull(indexed, "the asset's pointer");
    }
    forgetPackPointer(path); // a pack published here is served from its new address at once
  }
  audit(rc, { provider: null, decision: "allow", reason: unchanged ? "unchanged" : "published", b3: `b3:${entry.b3}` });
  return new Response(JSON.stringify({ path, address: `b3:${entry.b3}`, size: entry.size, type: entry.type, corr_id: rc.corrId }), {
    status: unchanged ? 200 : 201,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ETag: etagOf(entry.b3) },
  });
}
