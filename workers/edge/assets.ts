/**
 * @module `GET`/`HEAD /edge/assets/*` from the asset index and the content-addressed store, with
 * ranges and conditionals; `PUT /edge/assets/*` publishes (capability op `edge.put`, path under the token's `prefix`).
 */
import { etagOf, isHex64 } from "../../shared/address";
import { liveFill } from "../../shared/edge/live-fill";
import { audit } from "../../shared/audit";
import { parseContentCoding } from "../../shared/body/content-coding";
import { bodyLimitsOf, readDecodedBody } from "../../shared/body/read-body";
import { configOf, type RequestContext } from "../../shared/context";
import { assetIndexFor, type AssetEntry } from "../../shared/edge/asset-index";
import { assetPathOf, contentTypeOf } from "../../shared/edge/asset-path";
import { forgetPackPointer } from "../../shared/edge/packs";
import { badRequest, HttpError, JSON_CONTENT_TYPE, notFound, storeFull } from "../../shared/errors";
import { representationResponse, representationStreamResponse, type Representation } from "../../shared/http/representation";
import { metrics } from "../../shared/metrics";
import { declaredBodyBytes, requireCapability } from "../../shared/middleware/require-capability";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor } from "../../shared/store";
import { openVerifiedRange } from "../../shared/store/verified-read";
import { assetServeOptions } from "./serve-options";

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/;

async function lookup(request: Request, rc: RequestContext<any>): Promise<{ entry: AssetEntry; rep: Representation }> {
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

export async function getAsset(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const { entry, rep } = await lookup(request, rc);
  const store = objectStoreFor(rc);
  const info = { size: entry.size, contentType: entry.type };
  const { VERIFY_GROUP_BYTES: groupBytes, STREAM_CHUNK_BYTES: chunkBytes } = configOf(rc);
  metrics.edgeHits.inc({ kind: "asset" });
  // only the range's groups are read, each checked against the object's outboard tree
  return representationStreamResponse(request, rep, (start, end) => openVerifiedRange(rc, store, entry.b3, info, start, end, { groupBytes, chunkBytes }), assetServeOptions(rc));
}

export async function headAsset(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const { rep } = await lookup(request, rc);
  metrics.edgeHits.inc({ kind: "asset" });
  return representationResponse(request, rep, null, assetServeOptions(rc));
}

export async function putAsset(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const path = assetPathOf(request.url);
  requireCapability(request, rc, { op: "edge.put", path, bytes: declaredBodyBytes(request) });
  if (!request.body) throw badRequest("PUT /edge/assets/* needs a body", "empty_body");
  const declaredType = (request.headers.get("content-type") ?? "").trim();
  if (declaredType && !MEDIA_TYPE.test(declaredType)) throw badRequest("Content-Type is not a media type", "bad_content_type");
  // octet-stream, or curl's default form type, says nothing about the asset: infer from the path
  const generic = !declaredType || /^application\/(octet-stream|x-www-form-urlencoded)\b/i.test(declaredType);
  const type = generic ? contentTypeOf(path) : declaredType;
  const declared = request.headers.has("content-length") ? Number(request.headers.get("content-length")) : undefined;
  const body = await readDecodedBody(request.body, parseContentCoding(request.headers.get("content-encoding")), bodyLimitsOf(configOf(rc)), rc.signal, declared);
  rc.timing.add("hash", body.hashMs);
  if (rc.signal.aborted) throw rc.signal.reason;

  const outcome = await objectStoreFor(rc).put(body.hex, body.bytes, type);
  metrics.edgeCasWrites.inc({ status: outcome.status });
  if (outcome.status === "full") {
    throw storeFull(outcome);
  }
  const index = assetIndexFor(rc);
  const previous = await index.get(path);
  const entry: AssetEntry = { b3: body.hex, size: body.bytes.length, type };
  const unchanged = previous?.b3 === entry.b3 && previous.type === entry.type;
  if (!unchanged) {
    const indexed = await index.put(path, entry);
    if (indexed.status === "full") {
      throw storeFull(indexed, "the asset's pointer");
    }
    forgetPackPointer(path); // a pack published here is served from its new address at once
  }
  audit(rc, { provider: null, decision: "allow", reason: unchanged ? "unchanged" : "published", b3: `b3:${body.hex}` });
  return new Response(JSON.stringify({ path, address: `b3:${body.hex}`, size: entry.size, type, corr_id: rc.corrId }), {
    status: unchanged ? 200 : 201,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ETag: etagOf(body.hex) },
  });
}
