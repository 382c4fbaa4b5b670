/**
 * @module `GET` and `HEAD /o/:addr`: immutable bytes with a strong ETag, single ranges and
 * If-None-Match. Every GET re-hashes the stored bytes before serving them; a mismatch is 502
 * INTEGRITY_FAIL, never a complete 200 of bad bytes.
 */
import { etagOf, requireAddress } from "../../shared/address";
import { blake3 } from "../../shared/blake3";
import type { RequestContext } from "../../shared/context";
import { HttpError, notFound } from "../../shared/errors";
import { ifNoneMatchHits } from "../../shared/http/conditional";
import { contentRange, decideRange, unsatisfiedRange } from "../../shared/http/range";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor, type ObjectInfo } from "../../shared/store";

const IMMUTABLE = "public, max-age=31536000, immutable";

function baseHeaders(hex: string, info: ObjectInfo): Headers {
  return new Headers({
    "Content-Type": info.contentType,
    ETag: etagOf(hex),
    "Cache-Control": IMMUTABLE,
    "Accept-Ranges": "bytes",
  });
}

/** The 200/206/304 answer for an object; `body` is null for HEAD and 304-only paths. */
function shapeResponse(request: Request, hex: string, info: ObjectInfo, body: Uint8Array | null): Response {
  const headers = baseHeaders(hex, info);
  if (ifNoneMatchHits(request.headers.get("if-none-match"), etagOf(hex))) {
    headers.delete("Content-Type");
    return new Response(null, { status: 304, headers });
  }
  const range = decideRange(request.headers.get("range"), info.size);
  if (range.kind === "unsatisfiable") {
    // 416 goes through the error envelope, carrying the representation's length.
    throw new HttpError(416, "RANGE_NOT_SATISFIABLE", `range not satisfiable for an object of ${info.size} bytes`, {
      reason: "range",
      retryable: false,
      headers: { "Content-Range": unsatisfiedRange(info.size), "Accept-Ranges": "bytes", ETag: etagOf(hex) },
    });
  }
  const isHead = request.method === "HEAD";
  if (range.kind === "partial") {
    const length = range.end - range.start + 1;
    headers.set("Content-Range", contentRange(range.start, range.end, info.size));
    headers.set("Content-Length", String(length));
    return new Response(isHead || !body ? null : body.subarray(range.start, range.end + 1), { status: 206, headers });
  }
  headers.set("Content-Length", String(info.size));
  return new Response(isHead || !body ? null : body, { status: 200, headers });
}

export async function headObject(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const info = await objectStoreFor(rc).head(hex);
  if (!info) throw notFound(`no object b3:${hex}`);
  return shapeResponse(request, hex, info, null);
}

export async function getObject(request: RouteRequest, rc: RequestContext<any>): Promise<Response> {
  const hex = requireAddress(request.params.addr ?? "");
  const store = objectStoreFor(rc);
  // A conditional GET that may end in 304 must not read the body.
  if (request.headers.has("if-none-match")) {
    const info = await store.head(hex);
    if (!info) throw notFound(`no object b3:${hex}`);
    if (ifNoneMatchHits(request.headers.get("if-none-match"), etagOf(hex))) return shapeResponse(request, hex, info, null);
  }
  const object = await store.get(hex);
  if (!object) throw notFound(`no object b3:${hex}`);
  if (blake3().hashHex(object.bytes) !== hex) {
    metrics.integrityFail.inc();
    console.error(JSON.stringify({ level: "error", msg: "integrity failure", corr_id: rc.corrId, address: `b3:${hex}`, store: store.kind }));
    throw new HttpError(502, "INTEGRITY_FAIL", `stored bytes of b3:${hex} do not match their address`, { reason: "integrity", retryable: false });
  }
  return shapeResponse(request, hex, object, object.bytes);
}
