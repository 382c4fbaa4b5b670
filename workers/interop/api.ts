/**
 * @module The interop facet's routes as the API document describes them (build time only:
 * `npm run openapi`). Request bodies are the schemas the routes validate with.
 */
import { addressParameter, BAD_ADDRESS, bytesOrSlice, DECODE_ERRORS, IF_MATCH_ERROR, INTEGRITY, PROOF_ERRORS, proofParameter, RANGE_ERROR, representationAnswers, SAMPLE_ADDRESS, STORE_FULL, UNKNOWN_OBJECT } from "../../shared/openapi/shapes";
import type { ErrorSpec, OperationSpec } from "../../shared/openapi/spec";
import * as z from "../../shared/zod";
import { dlqSchema, nackSchema, recvSchema, sendSchema } from "./mailbox-request";
import { putEnvelopeSchema } from "./put-request";
import { createUploadSchema } from "./upload-request";

const stored = z.strictObject({ address: z.string().check(z.regex(/^b3:[0-9a-f]{64}$/)), size: z.number().check(z.int(), z.gte(0)), corr_id: z.string() });
const storedExample = { address: SAMPLE_ADDRESS, size: 0, corr_id: "5b8e2c0a-93f1-4c57-8d7e-2f4a6c1b9e03" };

const SAMPLE_UPLOAD_ID = "0f8e4b52-6c1d-4a7e-9b3f-2d5c8a1e7f60";
const uploadOpened = z.strictObject({
  upload_id: z.string(),
  part_bytes: z.number().check(z.int(), z.gte(8 * 1024 * 1024)),
  parts: z.number().check(z.int(), z.gte(1)),
  expires_at: z.string(),
});
const partStored = z.strictObject({ part: z.number().check(z.int(), z.gte(1)), size: z.number().check(z.int(), z.gte(0)) });
const uploadIdParameter = { name: "id", in: "path", description: "The `upload_id` `POST /uploads` answered.", example: SAMPLE_UPLOAD_ID } as const;
const UNKNOWN_UPLOAD: ErrorSpec = { status: 404, code: "NOT_FOUND", when: "no such upload: never made, completed, aborted, or expired (UPLOAD_TTL_S)" };

const delivery = z.strictObject({
  msg_id: z.string(),
  topic: z.string(),
  ts: z.number(),
  idem_key: z.string(),
  payload_b64: z.string(),
  payload_hash: z.string(),
  attrs: z.record(z.string(), z.string()),
  corr_id: z.string(),
  attempt: z.number().check(z.int(), z.gte(0)),
});
const messages = z.strictObject({ messages: z.array(delivery) });
const okAnswer = z.strictObject({ ok: z.literal(true) });
const nackAnswer = z.strictObject({ ok: z.literal(true), dead_lettered: z.boolean() });
const sent = z.strictObject({ msg_id: z.string(), duplicate: z.boolean() });
const accepted = z.strictObject({ accepted: z.literal(true), duplicate: z.boolean(), b3: z.string(), corr_id: z.string() });

const auditRecord = z.strictObject({
  seq: z.number().check(z.int()),
  shard: z.number().check(z.int(), z.gte(0)),
  when: z.string(),
  corr_id: z.string(),
  provider: z.nullable(z.string()),
  decision: z.enum(["allow", "deny"]),
  reason: z.nullable(z.string()),
  b3: z.nullable(z.string()),
  route: z.string(),
  suppressed: z.optional(z.number().check(z.int())),
  prev: z.string(),
  hash: z.string(),
});
const seqNumber = z.number().check(z.int());
const shardReport = z.strictObject({
  shard: z.number().check(z.int(), z.gte(0)),
  ok: z.boolean(),
  records: seqNumber,
  first_seq: z.nullable(seqNumber),
  last_seq: z.nullable(seqNumber),
  flushed_through_seq: seqNumber,
  dropped: seqNumber,
  broken_at_seq: z.optional(seqNumber),
});
const auditVerdict = z.strictObject({
  ok: z.boolean(),
  records: seqNumber,
  dropped: seqNumber,
  shards: z.array(shardReport),
  anchors: z.strictObject({
    ok: z.boolean(),
    records: seqNumber,
    last_seq: z.nullable(seqNumber),
    broken_at_seq: z.optional(seqNumber),
    mismatched: z.array(z.strictObject({ anchor_seq: seqNumber, shard: z.number().check(z.int(), z.gte(0)), seq: seqNumber })),
  }),
});

/** Refusals of a strict JSON body (shared/json-body.ts). */
const JSON_BODY_ERRORS: ErrorSpec[] = [
  { status: 400, code: "MALFORMED", reason: "bad_json", when: "the body is not JSON" },
  { status: 400, code: "BAD_REQUEST", reason: "bad_body", when: "a field fails validation, or an unknown field (the message names it)" },
  { status: 400, code: "BAD_REQUEST", reason: "empty_body", when: "no body" },
  { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "body_cap", when: "wire bytes over MAX_BODY_BYTES" },
  { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "content_type", when: "a Content-Type other than application/json" },
];
const NO_MESSAGE: ErrorSpec = { status: 404, code: "NOT_FOUND", when: "no such in-flight message (unknown, or its visibility expired)" };
const msgIdParameter = { name: "msg_id", in: "path", description: "A message id as received: `<topic>:<uuid>`.", example: "jobs:6f1c2d4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f" } as const;
const jsonBody = (name: string, schema: z.ZodMiniType, example: unknown) => ({ content: { "application/json": { schema: { name, schema }, example } } });

export const interopApi: OperationSpec[] = [
  {
    method: "GET",
    template: "/o/:addr",
    operationId: "getObject",
    summary: "Read an object by its content address",
    description:
      "Each group of the bytes (docs/OBJECTS.md) is checked against the object's BLAKE3 tree before it is sent. Active types (HTML, SVG, XML, script, PDF) are attachments under `Content-Security-Policy: sandbox`. " +
      "With `?proof=1` the answer is a verified slice of the range instead: the bytes with their proof, for the client to check against the address.",
    tag: "objects",
    admission: "read",
    parameters: [addressParameter, proofParameter, "Range", "If-None-Match", "If-Match", "If-Range"],
    responses: [
      {
        status: 200,
        description: "The bytes, with the stored Content-Type; immutable caching. With `?proof=1`: the slice (`application/vnd.ron.b3-slice`, `Vary: Range`, no ETag) of the one range asked for, or of the whole object.",
        headers: ["ETag", "Cache-Control", "Accept-Ranges", "Content-Disposition", "Content-Security-Policy", "Vary"],
        body: bytesOrSlice,
      },
      ...representationAnswers(true),
    ],
    errors: [BAD_ADDRESS, ...PROOF_ERRORS, UNKNOWN_OBJECT, IF_MATCH_ERROR, RANGE_ERROR, INTEGRITY],
    samplePath: `/o/${SAMPLE_ADDRESS}`,
  },
  {
    method: "HEAD",
    template: "/o/:addr",
    operationId: "headObject",
    summary: "An object's headers, without reading its bytes",
    tag: "objects",
    admission: "read",
    parameters: [addressParameter, proofParameter, "Range", "If-None-Match", "If-Match"],
    responses: [{ status: 200, description: "Headers of the GET answer (with `?proof=1`: the slice's, and its exact Content-Length); no body.", headers: ["ETag", "Cache-Control", "Accept-Ranges", "Vary"] }, ...representationAnswers(false)],
    errors: [BAD_ADDRESS, ...PROOF_ERRORS, UNKNOWN_OBJECT, IF_MATCH_ERROR, RANGE_ERROR],
    samplePath: `/o/${SAMPLE_ADDRESS}`,
  },
  {
    method: "PUT",
    template: "/o/:addr",
    operationId: "putObjectStream",
    summary: "Stream an object of any size (up to MAX_OBJECT_BYTES) to its address",
    description:
      "Content-Length is required; the Content-Type given is stored (octet-stream without one). The body streams into the store while it is hashed into its BLAKE3 tree (docs/OBJECTS.md), at most two STREAM_CHUNK_BYTES chunks held. " +
      "It is readable under its address only once every byte hashed to it; a body that misses the address, ends short, runs long or is cut off leaves nothing stored.",
    tag: "objects",
    capability: "put",
    admission: "write",
    parameters: [addressParameter],
    requestBody: { content: { "application/octet-stream": { schema: { json: { type: "string", contentMediaType: "application/octet-stream" } } } } },
    responses: [
      { status: 201, description: "A new object.", headers: ["Location", "ETag"], body: jsonBody("Stored", stored, storedExample) },
      { status: 200, description: "Already stored; these bytes hashed to it too.", headers: ["Location", "ETag"], body: jsonBody("Stored", stored, storedExample) },
    ],
    errors: [
      BAD_ADDRESS,
      { status: 411, code: "LENGTH_REQUIRED", reason: "length_required", when: "no Content-Length", retryable: false },
      { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "object_cap", when: "Content-Length over MAX_OBJECT_BYTES" },
      { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "long_body", when: "the body runs past its Content-Length" },
      { status: 400, code: "BAD_REQUEST", reason: "short_body", when: "the body ends before its Content-Length" },
      { status: 400, code: "BAD_REQUEST", reason: "unreadable", when: "the body could not be read (the client went away)" },
      { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "encoding_on_stream", when: "a Content-Encoding (a streamed object is stored as sent)" },
      { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "content_type", when: "a Content-Type that is not a media type" },
      { status: 422, code: "ADDRESS_MISMATCH", reason: "address_mismatch", when: "the bytes do not hash to the address; nothing stored", retryable: false },
      STORE_FULL,
    ],
    samplePath: `/o/${SAMPLE_ADDRESS}`,
  },
  {
    method: "POST",
    template: "/put",
    operationId: "putObject",
    summary: "Store bytes under their BLAKE3 address",
    description:
      "Raw bytes (`application/octet-stream` or no Content-Type, optional `Content-Encoding`), or the JSON envelope " +
      "`{payload: base64, meta?: {type?, content_encoding?, provider?}}`. Decoded under the caps while hashed; nothing is stored unless everything passed.",
    tag: "objects",
    capability: "put",
    admission: "write",
    parameters: ["Content-Encoding"],
    requestBody: {
      content: {
        "application/octet-stream": { schema: { json: { type: "string", contentMediaType: "application/octet-stream" } } },
        "application/json": { schema: { name: "PutEnvelope", schema: putEnvelopeSchema }, example: { payload: "aGVsbG8=", meta: { type: "text/plain" } } },
      },
    },
    responses: [
      { status: 201, description: "A new object.", headers: ["Location", "ETag"], body: jsonBody("Stored", stored, storedExample) },
      { status: 200, description: "The same content was already stored (written once).", headers: ["Location", "ETag"], body: jsonBody("Stored", stored, storedExample) },
    ],
    errors: [
      ...DECODE_ERRORS,
      { status: 400, code: "MALFORMED", reason: "bad_json", when: "the JSON envelope is not JSON" },
      { status: 400, code: "BAD_REQUEST", reason: "bad_envelope", when: "the envelope fails validation (the message names the field)" },
      { status: 400, code: "BAD_REQUEST", reason: "bad_base64", when: "`payload` is not base64" },
      { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "content_type", when: "a Content-Type other than application/octet-stream or application/json" },
      { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", reason: "encoding_on_json", when: "Content-Encoding on a JSON body (use meta.content_encoding)" },
      STORE_FULL,
    ],
    samplePath: "/put",
  },
  {
    method: "POST",
    template: "/uploads",
    operationId: "createUpload",
    summary: "Open a multipart upload of an object too large for one request",
    description:
      "Names the object to come by address and size. The answer says how to cut it: parts of `part_bytes` (a power of two ≥ 8 MiB, so each full part is a whole BLAKE3 subtree), the last one the rest, numbered from 1. " +
      "The upload expires UPLOAD_TTL_S after it opens; at most MAX_OPEN_UPLOADS are open at once. In amnesia mode the object's bytes are reserved in AMNESIA_MAX_BYTES now.",
    tag: "objects",
    capability: "put",
    admission: "write",
    requestBody: jsonBody("CreateUpload", createUploadSchema, { address: SAMPLE_ADDRESS, size: 104857600 }),
    responses: [{ status: 201, description: "Open; send the parts.", body: jsonBody("UploadOpened", uploadOpened, { upload_id: SAMPLE_UPLOAD_ID, part_bytes: 8388608, parts: 13, expires_at: "2026-01-02T03:04:05.000Z" }) }],
    errors: [
      ...JSON_BODY_ERRORS,
      { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "object_cap", when: "`size` over MAX_OBJECT_BYTES" },
      { status: 429, code: "TOO_MANY_REQUESTS", reason: "upload_limit", when: "MAX_OPEN_UPLOADS uploads are open", headers: ["Retry-After"] },
      STORE_FULL,
    ],
    samplePath: "/uploads",
  },
  {
    method: "PUT",
    template: "/uploads/:id/:n",
    operationId: "putUploadPart",
    summary: "Send part n of a multipart upload (any order; a retry replaces it)",
    description: "Content-Length is required and must be the part's length: `part_bytes`, the last part the rest. The part is hashed to its BLAKE3 subtree CV on its way into the store (R2 multipart, or the RAM store).",
    tag: "objects",
    capability: "put",
    admission: "write",
    parameters: [uploadIdParameter, { name: "n", in: "path", description: "The part's number, 1 … parts.", example: "1" }],
    requestBody: { content: { "application/octet-stream": { schema: { json: { type: "string", contentMediaType: "application/octet-stream" } } } } },
    responses: [{ status: 200, description: "The part is stored with its CVs.", body: jsonBody("PartStored", partStored, { part: 1, size: 8388608 }) }],
    errors: [
      UNKNOWN_UPLOAD,
      { status: 400, code: "BAD_REQUEST", reason: "bad_part_number", when: "`n` is not one of 1 … parts", retryable: false },
      { status: 400, code: "BAD_REQUEST", reason: "part_length", when: "Content-Length is not the part's length", retryable: false },
      { status: 411, code: "LENGTH_REQUIRED", reason: "length_required", when: "no Content-Length", retryable: false },
      { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "object_cap", when: "Content-Length over MAX_OBJECT_BYTES" },
      { status: 413, code: "PAYLOAD_TOO_LARGE", reason: "long_body", when: "the body runs past its Content-Length" },
      { status: 400, code: "BAD_REQUEST", reason: "short_body", when: "the body ends before its Content-Length" },
      { status: 400, code: "BAD_REQUEST", reason: "unreadable", when: "the body could not be read (the client went away)" },
      STORE_FULL,
    ],
    samplePath: `/uploads/${SAMPLE_UPLOAD_ID}/1`,
  },
  {
    method: "POST",
    template: "/uploads/:id/complete",
    operationId: "completeUpload",
    summary: "Complete a multipart upload: the object exists only if its parts hash to the address",
    description:
      "The parts' CVs are combined up BLAKE3's tree (parent CVs, the root flag on the last); only when the root is the address is the object made, with its outboard tree (docs/OBJECTS.md). " +
      "On a mismatch the upload is aborted and nothing is readable under any address.",
    tag: "objects",
    capability: "put",
    admission: "write",
    parameters: [uploadIdParameter],
    responses: [
      { status: 201, description: "A new object.", headers: ["Location", "ETag"], body: jsonBody("Stored", stored, storedExample) },
      { status: 200, description: "Already stored; these parts hashed to it too.", headers: ["Location", "ETag"], body: jsonBody("Stored", stored, storedExample) },
    ],
    errors: [
      UNKNOWN_UPLOAD,
      { status: 409, code: "CONFLICT", reason: "missing_parts", when: "parts are missing (the message lists them); send them and complete again", retryable: false },
      { status: 409, code: "CONFLICT", reason: "parts_changed", when: "a part was replaced while completing; complete again", retryable: true },
      { status: 422, code: "ADDRESS_MISMATCH", reason: "address_mismatch", when: "the parts do not hash to the address; the upload is aborted, nothing stored", retryable: false },
      STORE_FULL,
    ],
    samplePath: `/uploads/${SAMPLE_UPLOAD_ID}/complete`,
  },
  {
    method: "DELETE",
    template: "/uploads/:id",
    operationId: "abortUpload",
    summary: "Abort a multipart upload and drop its parts",
    tag: "objects",
    capability: "put",
    admission: "write",
    parameters: [uploadIdParameter],
    responses: [{ status: 204, description: "Aborted; the id names nothing now." }],
    errors: [UNKNOWN_UPLOAD],
    samplePath: `/uploads/${SAMPLE_UPLOAD_ID}`,
  },
  {
    method: "POST",
    template: "/webhooks/:provider",
    operationId: "receiveWebhook",
    summary: "Receive a signed GitHub, Stripe or Slack delivery into the mailbox",
    description: "Verified by the provider's own signature over the exact wire bytes, then enqueued into `webhooks.<provider>` and audited. Not a capability route: the provider's signature authenticates it (docs/WEBHOOKS.md).",
    tag: "webhooks",
    admission: "write",
    parameters: [{ name: "provider", in: "path", description: "`github`, `stripe` or `slack`.", schema: { json: { type: "string", enum: ["github", "stripe", "slack"] } }, example: "github" }, "Content-Encoding"],
    requestBody: { description: "The provider's payload, exactly as it signed it.", content: { "*/*": { schema: { json: { type: "string" } } } } },
    responses: [
      {
        status: 202,
        description: "Enqueued; `duplicate` when the same delivery (id, or the same signed bytes) arrived within MAILBOX_DEDUPE_S.",
        body: jsonBody("WebhookAccepted", accepted, { accepted: true, duplicate: false, b3: SAMPLE_ADDRESS, corr_id: "5b8e2c0a-93f1-4c57-8d7e-2f4a6c1b9e03" }),
      },
    ],
    errors: [
      { status: 401, code: "UNAUTHORIZED", reason: "missing_signature", when: "no signature header", retryable: false },
      { status: 401, code: "UNAUTHORIZED", reason: "malformed_signature", when: "a signature header of the wrong shape", retryable: false },
      { status: 401, code: "UNAUTHORIZED", reason: "bad_signature", when: "the signature does not match the body", retryable: false },
      { status: 401, code: "UNAUTHORIZED", reason: "missing_timestamp", when: "no signed timestamp (Stripe, Slack)", retryable: false },
      { status: 401, code: "UNAUTHORIZED", reason: "stale_timestamp", when: "the signed timestamp is outside WEBHOOK_TOLERANCE_S", retryable: false },
      { status: 404, code: "NOT_FOUND", when: "an unknown provider" },
      { status: 404, code: "NOT_FOUND", reason: "provider_disabled", when: "no secret is configured for this provider" },
      { status: 429, code: "TOO_MANY_REQUESTS", reason: "BACKPRESSURE", when: "the provider's topic is full", headers: ["Retry-After", "X-Reason"] },
      ...DECODE_ERRORS.filter((e) => e.reason !== "empty_body"),
    ],
    samplePath: "/webhooks/github",
  },
  {
    method: "POST",
    template: "/mailbox/send",
    operationId: "mailboxSend",
    summary: "Send a message to a topic (idempotent by idem_key)",
    tag: "mailbox",
    capability: "mailbox.send",
    admission: "write",
    requestBody: jsonBody("MailboxSend", sendSchema, { topic: "jobs", idem_key: "job-42", payload_b64: "aGVsbG8=", attrs: { kind: "demo" } }),
    responses: [{ status: 200, description: "Stored, or a duplicate of a message sent within MAILBOX_DEDUPE_S.", body: jsonBody("MailboxSent", sent, { msg_id: "jobs:6f1c2d4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f", duplicate: false }) }],
    errors: [
      ...JSON_BODY_ERRORS,
      { status: 400, code: "BAD_REQUEST", reason: "bad_base64", when: "`payload_b64` is not base64" },
      { status: 429, code: "TOO_MANY_REQUESTS", reason: "BACKPRESSURE", when: "the topic holds WORK_QUEUE_CAPACITY messages", headers: ["Retry-After", "X-Reason"] },
      { status: 429, code: "TOO_MANY_REQUESTS", reason: "topic_limit", when: "a new topic while MAILBOX_MAX_TOPICS topics hold state", headers: ["Retry-After", "X-Reason"] },
    ],
    samplePath: "/mailbox/send",
  },
  {
    method: "POST",
    template: "/mailbox/recv",
    operationId: "mailboxRecv",
    summary: "Receive messages; each stays invisible for visibility_ms unless acked",
    tag: "mailbox",
    capability: "mailbox.recv",
    admission: "write",
    requestBody: jsonBody("MailboxRecv", recvSchema, { topic: "jobs", visibility_ms: 30000, max_messages: 10 }),
    responses: [{ status: 200, description: "Up to max_messages deliveries (possibly none).", body: jsonBody("MailboxMessages", messages, { messages: [] }) }],
    errors: JSON_BODY_ERRORS,
    samplePath: "/mailbox/recv",
  },
  {
    method: "POST",
    template: "/mailbox/ack/:msg_id",
    operationId: "mailboxAck",
    summary: "Acknowledge a received message (repeating it is fine)",
    tag: "mailbox",
    capability: "mailbox.ack",
    admission: "write",
    parameters: [msgIdParameter],
    responses: [{ status: 200, description: "Acknowledged.", body: jsonBody("MailboxOk", okAnswer, { ok: true }) }],
    errors: [NO_MESSAGE],
    samplePath: "/mailbox/ack/jobs:6f1c2d4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f",
  },
  {
    method: "POST",
    template: "/mailbox/nack/:msg_id",
    operationId: "mailboxNack",
    summary: "Give a message back: redelivered after 1 s, 2 s, 4 s … (≤ 60 s), dead-lettered after MAILBOX_MAX_ATTEMPTS",
    tag: "mailbox",
    capability: "mailbox.ack",
    admission: "write",
    parameters: [msgIdParameter],
    requestBody: { required: false, ...jsonBody("MailboxNack", nackSchema, { reason: "downstream unavailable" }) },
    responses: [{ status: 200, description: "Requeued, or dead-lettered.", body: jsonBody("MailboxNacked", nackAnswer, { ok: true, dead_lettered: false }) }],
    errors: [NO_MESSAGE, ...JSON_BODY_ERRORS.filter((e) => e.reason !== "empty_body")],
    samplePath: "/mailbox/nack/jobs:6f1c2d4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f",
  },
  {
    method: "POST",
    template: "/mailbox/dlq",
    operationId: "mailboxDeadLetters",
    summary: "List a topic's dead letters",
    tag: "mailbox",
    capability: "mailbox.recv",
    admission: "write",
    requestBody: jsonBody("MailboxDlq", dlqSchema, { topic: "jobs", max_messages: 10 }),
    responses: [{ status: 200, description: "At most MAILBOX_DLQ_CAPACITY per topic, each kept MAILBOX_DLQ_TTL_S.", body: jsonBody("MailboxMessages", messages, { messages: [] }) }],
    errors: JSON_BODY_ERRORS,
    samplePath: "/mailbox/dlq",
  },
  {
    method: "GET",
    template: "/audit/verify",
    operationId: "auditVerify",
    summary: "Recompute every audit shard's hash chain and the anchor chain",
    tag: "audit",
    capability: "audit.read",
    admission: "read",
    responses: [
      {
        status: 200,
        description:
          "`ok` false when a chain is broken (the shard's or the anchors' `broken_at_seq`: the first record whose hash, link or shard does not match) or a shard no longer holds a head the anchors recorded (`anchors.mismatched`).",
        headers: ["Cache-Control"],
        body: jsonBody("AuditVerdict", auditVerdict, {
          ok: true,
          records: 2,
          dropped: 0,
          shards: [
            { shard: 0, ok: true, records: 2, first_seq: 1, last_seq: 2, flushed_through_seq: 0, dropped: 0 },
            { shard: 1, ok: true, records: 0, first_seq: null, last_seq: null, flushed_through_seq: 0, dropped: 0 },
          ],
          anchors: { ok: true, records: 1, last_seq: 1, mismatched: [] },
        }),
      },
    ],
    samplePath: "/audit/verify",
  },
  {
    method: "GET",
    template: "/audit/tail",
    operationId: "auditTail",
    summary: "The newest audit records",
    tag: "audit",
    capability: "audit.read",
    admission: "read",
    parameters: [{ name: "limit", in: "query", description: "How many records (1–512).", schema: { json: { type: "integer", minimum: 1, maximum: 512, default: 50 } } }],
    responses: [{ status: 200, description: "The newest `limit` records over all shards, oldest first (by `when`, then shard and seq).", headers: ["Cache-Control"], body: jsonBody("AuditRecords", z.strictObject({ records: z.array(auditRecord) }), { records: [] }) }],
    errors: [{ status: 400, code: "BAD_REQUEST", reason: "bad_limit", when: "limit is not a whole number in 1..512" }],
    samplePath: "/audit/tail?limit=5",
  },
];
