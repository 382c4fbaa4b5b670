/**
 * @module `?proof=1` on a read of a stored object (`GET`/`HEAD /o/:addr`, `/cas/blake3/:hex`): the
 * answer is a verified slice (shared/store/slice.ts, docs/OBJECTS.md) of the range the `Range`
 * header asks for, or of the whole object, so the client can check the bytes against the
 * address itself. One range only; If-Range is honoured as for plain reads (a mismatch: the
 * whole object); If-Match / If-None-Match are not (they name the object's ETag, not a slice's).
 */
import { HttpError } from "../errors";
import type { ObjectInfo, ObjectStore, PeekedObject } from "../store/object-store";
import { SLICE_MEDIA_TYPE } from "../store/slice";
import { openVerifiedSlice, planVerifiedSlice } from "../store/verified-slice";
import type { VerifiedReadOptions } from "../store/verified-read";
import type { RequestContext } from "../context";
import { ifRangeAllows } from "./conditional";
import { decideRanges } from "./range";
import { fixedLength, rangeNotSatisfiable } from "./representation";

const IMMUTABLE = "public, max-age=31536000, immutable";
/** A proof request's ranges are counted as a plain read's (several that merge into one are one). */
const MAX_RANGE_SPECS = 16;

/** Whether the request asks for a proof: `proof=1`; any other value, or the parameter twice, is a 400. */
export function wantsProof(request: Request): boolean {
  if (!request.url.includes("?")) return false; // the common read: no query to parse
  const values = new URL(request.url).searchParams.getAll("proof");
  if (values.length === 0) return false;
  if (values.length === 1 && values[0] === "1") return true;
  throw new HttpError(400, "BAD_REQUEST", "proof must be given once, as proof=1", { reason: "proof_query", retryable: false });
}

/** The range (start inclusive, end exclusive) a proof request covers: its one Range, or the whole object. */
function requestedRange(request: Request, info: ObjectInfo, etag: string): { start: number; end: number } {
  const whole = { start: 0, end: info.size };
  const header = request.headers.get("range");
  if (header === null || !ifRangeAllows(request.headers.get("if-range"), etag)) return whole;
  const decided = decideRanges(header, info.size, MAX_RANGE_SPECS);
  switch (decided.kind) {
    case "unsatisfiable":
      throw rangeNotSatisfiable({ size: info.size, etag });
    case "multipart":
      throw new HttpError(400, "BAD_REQUEST", "a proof covers one range; ask for each range separately", { reason: "proof_ranges", retryable: false });
    case "partial":
      return { start: decided.start, end: decided.end + 1 };
    default:
      return whole;
  }
}

/** The slice answer: 200, `application/vnd.ron.b3-slice`, its exact length; HEAD reads no object byte. */
export async function sliceResponse(request: Request, rc: Pick<RequestContext, "corrId"> & Partial<Pick<RequestContext, "timing">>, store: ObjectStore, hex: string, etag: string, info: ObjectInfo | PeekedObject, options: VerifiedReadOptions): Promise<Response> {
  const { start, end } = requestedRange(request, info, etag);
  const planned = await planVerifiedSlice(rc, store, hex, info, start, end, options);
  const headers = new Headers({
    "Content-Type": SLICE_MEDIA_TYPE,
    "Content-Length": String(planned.plan.sliceBytes),
    "Cache-Control": IMMUTABLE,
    // the Range header chooses the slice: a cache must not answer one range with another's
    Vary: "Range",
  });
  if (request.method === "HEAD") return new Response(null, { status: 200, headers });
  const body = await openVerifiedSlice(rc, store, hex, info, planned, options);
  return new Response(fixedLength(body, planned.plan.sliceBytes), { status: 200, headers });
}
