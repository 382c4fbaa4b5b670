/**
 * @module `PUT /o/b3:<hex>`: a streamed upload of up to `MAX_OBJECT_BYTES` (Content-Length
 * required). The body flows into the store while it is hashed, a `STREAM_CHUNK_BYTES` chunk at a
 * time; bytes that miss the address fail closed (422 ADDRESS_MISMATCH, nothing readable under any
 * address), and so does a body that stops short or a client that goes away. 201 when new, 200
 * when the object was already stored (its bytes are still checked against the address).
 */
import { requireAddress } from "../../shared/address";
import { parseContentCoding } from "../../shared/body/content-coding";
import { configOf } from "../../shared/context";
import { HttpError, unsupportedMediaType } from "../../shared/errors";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import { declaredBodyBytes, requireCapability } from "../../shared/middleware/require-capability";
import { objectStoreFor, type PutOutcome } from "../../shared/store";
import { VerifiedUpload } from "../../shared/store/verified-upload";
import { storedResponse, type PutContext } from "./put-object";
import { DEFAULT_CONTENT_TYPE, isMediaType } from "./put-request";

/** The type to store: the request's Content-Type (a plain media type), octet-stream without one. */
function contentTypeOf(headers: Headers): string {
  const type = headers.get("content-type")?.trim();
  if (!type) return DEFAULT_CONTENT_TYPE;
  if (!isMediaType(type)) throw unsupportedMediaType(`Content-Type ${JSON.stringify(type)} is not a media type`, "content_type");
  return type;
}

export async function putStreamObject(request: RouteRequest, rc: PutContext): Promise<Response> {
  requireCapability(request, rc, { op: "put", bytes: declaredBodyBytes(request) });
  const hex = requireAddress(request.params.addr ?? "");
  const declared = request.headers.get("content-length");
  if (declared === null) {
    throw new HttpError(411, "LENGTH_REQUIRED", "PUT /o/b3:<hex> needs a Content-Length (the body streams into the store at that length)", { reason: "length_required", retryable: false });
  }
  if (parseContentCoding(request.headers.get("content-encoding")) !== "identity") {
    throw unsupportedMediaType("a streamed upload is stored as sent: send it without Content-Encoding", "encoding_on_stream");
  }
  const contentType = contentTypeOf(request.headers);
  const size = Number(declared); // withBodyCap refused a length that is not digits or over MAX_OBJECT_BYTES
  const config = configOf(rc);
  const upload = new VerifiedUpload(
    request.body ?? new Blob([]).stream(),
    { hex, size, contentType, groupBytes: config.VERIFY_GROUP_BYTES, chunkBytes: config.STREAM_CHUNK_BYTES },
    rc.signal,
  );
  const store = objectStoreFor(rc);
  let outcome: PutOutcome;
  try {
    if (await store.head(hex)) {
      await upload.verifyOnly(); // held already: the answer still says whether these bytes are it
      outcome = { status: "existing" };
    } else outcome = await store.putStream(hex, upload);
  } catch (error) {
    if (rc.signal.aborted) throw rc.signal.reason;
    if (!upload.failure) throw error;
    metrics.storePuts.inc({ store: store.kind, result: upload.failure.failure });
    throw upload.failure;
  }
  return storedResponse(rc, store, outcome, { hex, size, contentType, coding: "identity" });
}
