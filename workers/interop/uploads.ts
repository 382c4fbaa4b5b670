/**
 * @module Multipart uploads (docs/OBJECTS.md, Multipart): `POST /uploads` opens one for an
 * address and size, `PUT /uploads/:id/:n` sends part n (any order, retries replace it), each
 * hashed to its BLAKE3 subtree on the way into the store; `POST /uploads/:id/complete` combines
 * the parts' CVs and makes the object only when they are the address (422 ADDRESS_MISMATCH and
 * the upload dropped when not); `DELETE /uploads/:id` aborts. Every route takes the `put` op.
 */
import { formatAddress } from "../../shared/address";
import { blake3Tree } from "../../shared/blake3";
import type { AuditEnv } from "../../shared/audit";
import type { ConfigEnv } from "../../shared/config";
import type { MailboxEnv } from "../../shared/mailbox/client";
import { configOf, type RequestContext } from "../../shared/context";
import { UploadError } from "../../shared/domain-errors";
import { HttpError, JSON_CONTENT_TYPE, notFound, payloadTooLarge, resourceBusy, storeFull } from "../../shared/errors";
import { readJson } from "../../shared/json-body";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import { declaredBodyBytes, requireAlso, requireCapability } from "../../shared/middleware/require-capability";
import { objectStoreFor, type StoreEnv } from "../../shared/store";
import { combineParts } from "../../shared/store/multipart/combine";
import { multipartStoreFor, type MultipartStore, type UploadRecord } from "../../shared/store/multipart";
import { PartUpload } from "../../shared/store/multipart/part-upload";
import { partLayout, partLength } from "../../shared/store/multipart/plan";
import { outboardBytes, treeShape } from "../../shared/store/outboard";
import { storedResponse } from "./put-object";
import { DEFAULT_CONTENT_TYPE } from "./put-request";
import { createUploadSchema, PART_NUMBER, UPLOAD_ID } from "./upload-request";

type UploadsContext = RequestContext<StoreEnv & AuditEnv & MailboxEnv & ConfigEnv>;

const json = (body: unknown, status: number) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": JSON_CONTENT_TYPE } });


const unknownUpload = (id: string) => notFound(`no upload ${id} (never made, completed, aborted, or expired after UPLOAD_TTL_S)`);

/** The open upload the path names, or 404. */
async function openUpload(request: RouteRequest, store: MultipartStore): Promise<UploadRecord> {
  const id = request.params.id ?? "";
  const upload = UPLOAD_ID.test(id) ? await store.get(id, Date.now()) : null;
  if (!upload) throw unknownUpload(id);
  return upload;
}

export async function createUpload(request: RouteRequest, rc: UploadsContext): Promise<Response> {
  const token = requireCapability(request, rc, { op: "put", partial: true });
  const body = await readJson(request, rc, createUploadSchema);
  // the object's size is what the token must allow, as a streamed PUT's Content-Length
  requireAlso(token, { op: "put", bytes: body.size });
  const config = configOf(rc);
  if (body.size > config.MAX_OBJECT_BYTES) throw payloadTooLarge(`object of ${body.size} bytes exceeds the ${config.MAX_OBJECT_BYTES}-byte cap (MAX_OBJECT_BYTES)`, "object_cap");
  const layout = partLayout(body.size, config.UPLOAD_PART_BYTES, config.VERIFY_GROUP_BYTES);
  const store = multipartStoreFor(rc);
  const outcome = await store.create(
    { hex: body.address.slice(3), contentType: body.content_type ?? DEFAULT_CONTENT_TYPE, ...layout },
    outboardBytes(treeShape(body.size, config.VERIFY_GROUP_BYTES)),
    { maxOpen: config.MAX_OPEN_UPLOADS, ttlMs: config.UPLOAD_TTL_S * 1000, now: Date.now() },
  );
  if (outcome.expired > 0) metrics.uploads.inc({ store: store.kind, outcome: "expired" }, outcome.expired);
  if (outcome.status === "too_many") {
    metrics.uploads.inc({ store: store.kind, outcome: "refused" });
    throw resourceBusy("upload_limit", `${outcome.open} uploads are open (MAX_OPEN_UPLOADS); complete or abort one, or wait for one to expire`, 60_000);
  }
  if (outcome.status === "full") {
    metrics.uploads.inc({ store: store.kind, outcome: "full" });
    throw storeFull(outcome, "the upload");
  }
  metrics.uploads.inc({ store: store.kind, outcome: "created" });
  const { upload } = outcome;
  return json({ upload_id: upload.id, part_bytes: upload.partBytes, parts: upload.parts, expires_at: new Date(upload.expiresAt).toISOString() }, 201);
}

export async function putPart(request: RouteRequest, rc: UploadsContext): Promise<Response> {
  requireCapability(request, rc, { op: "put", bytes: declaredBodyBytes(request) });
  const store = multipartStoreFor(rc);
  const upload = await openUpload(request, store);
  const text = request.params.n ?? "";
  const n = PART_NUMBER.test(text) ? Number(text) : 0;
  if (n < 1 || n > upload.parts) throw new HttpError(400, "BAD_REQUEST", `part number ${JSON.stringify(text)} is not one of 1 … ${upload.parts}`, { reason: "bad_part_number", retryable: false });
  const expected = partLength(upload, n);
  const declared = request.headers.get("content-length");
  if (declared === null) throw new HttpError(411, "LENGTH_REQUIRED", `a part needs a Content-Length (part ${n} is ${expected} bytes)`, { reason: "length_required", retryable: false });
  if (Number(declared) !== expected) {
    throw new HttpError(400, "BAD_REQUEST", `part ${n} is ${expected} bytes (part_bytes ${upload.partBytes}, the last part the rest), not ${declared}`, { reason: "part_length", retryable: false });
  }
  const config = configOf(rc);
  const part = new PartUpload(request.body ?? new Blob([]).stream(), { layout: upload, n, groupBytes: config.VERIFY_GROUP_BYTES, chunkBytes: config.STREAM_CHUNK_BYTES }, rc.signal);
  let outcome;
  try {
    outcome = await store.putPart(upload, part);
  } catch (error) {
    if (rc.signal.aborted) throw rc.signal.reason;
    throw part.failure ?? error;
  }
  if (outcome.status === "unknown") throw unknownUpload(upload.id);
  if (outcome.status === "full") throw storeFull(outcome, "the upload");
  return json({ part: n, size: part.size }, 200);
}

export async function completeUpload(request: RouteRequest, rc: UploadsContext): Promise<Response> {
  requireCapability(request, rc, { op: "put" });
  const store = multipartStoreFor(rc);
  const upload = await openUpload(request, store);
  const config = configOf(rc);
  const { parts, version } = await store.parts(upload);
  const combined = combineParts(blake3Tree(), upload, config.VERIFY_GROUP_BYTES, parts, upload.hex, (n) => partLength(upload, n));
  if (combined.status === "missing") {
    const shown = combined.missing.slice(0, 20).join(", ") + (combined.missing.length > 20 ? ", …" : "");
    throw new HttpError(409, "CONFLICT", `${combined.missing.length} of ${upload.parts} parts are missing: ${shown}; send them, then complete again`, { reason: "missing_parts", retryable: false });
  }
  if (combined.status === "mismatch") {
    await store.abort(upload.id);
    metrics.uploads.inc({ store: store.kind, outcome: "address_mismatch" });
    metrics.storePuts.inc({ store: store.kind, result: "address_mismatch" });
    throw new UploadError("address_mismatch", `the parts do not hash to ${formatAddress(upload.hex)}; the upload is aborted`);
  }
  const outcome = await store.complete(upload, version, combined.outboard);
  if (outcome.status === "unknown") throw unknownUpload(upload.id);
  if (outcome.status === "changed") {
    throw new HttpError(409, "CONFLICT", "a part was replaced while completing; complete again", { reason: "parts_changed", retryable: true });
  }
  if (outcome.status !== "full") metrics.uploads.inc({ store: store.kind, outcome: outcome.status === "created" ? "completed" : "existing" });
  return storedResponse(rc, objectStoreFor(rc), outcome, { hex: upload.hex, size: upload.size, contentType: upload.contentType, coding: "identity" });
}

export async function abortUpload(request: RouteRequest, rc: UploadsContext): Promise<Response> {
  requireCapability(request, rc, { op: "put" });
  const store = multipartStoreFor(rc);
  const upload = await openUpload(request, store); // an expired one is gone already: 404
  if (!(await store.abort(upload.id))) throw unknownUpload(upload.id);
  metrics.uploads.inc({ store: store.kind, outcome: "aborted" });
  return new Response(null, { status: 204 });
}
