/**
 * @module `POST /put`: decode the body under the caps while hashing it with BLAKE3, then store
 * it under its address. 201 when new, 200 when the content was already stored (written once).
 */
import { formatAddress, etagOf } from "../../shared/address";
import { readDecodedBody, readWireBytes, bodyLimitsOf } from "../../shared/body/read-body";
import type { ConfigEnv } from "../../shared/config";
import { configOf, type RequestContext } from "../../shared/context";
import { badRequest, HttpError, JSON_CONTENT_TYPE, storeFull } from "../../shared/errors";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";
import { objectStoreFor, type ObjectStore, type PutOutcome, type StoreEnv } from "../../shared/store";
import { decodeBase64 } from "../../shared/base64";
import { DEFAULT_CONTENT_TYPE, parseEnvelope, putModeOf, storedContentType } from "./put-request";
import { parseContentCoding } from "../../shared/body/content-coding";
import { audit, type AuditEnv } from "../../shared/audit";
import { mailboxLimits, sendMessages, type MailboxContext, type MailboxEnv } from "../../shared/mailbox/client";
import { IsolateBatcher } from "../../shared/batcher";
import { declaredBodyBytes, requireCapability } from "../../shared/middleware/require-capability";
import { STREAMING_HINT } from "../../shared/middleware/with-body-cap";
import { DecodeError } from "../../shared/domain-errors";
import { log } from "../../shared/log";

/** A write: stored, audited, announced on the `put` topic. */
export type PutContext = RequestContext<StoreEnv & AuditEnv & MailboxEnv & ConfigEnv>;

interface PutNotice {
  address: string;
  payload: Uint8Array;
  corr_id: string;
}

/** Notices made within BACKGROUND_BATCH_MS of each other go to the `put` topic in one call. */
const notices = new IsolateBatcher<PutNotice, MailboxEnv & ConfigEnv>({
  maxItems: 100,
  async send(rc, items) {
    metrics.backgroundBatches.inc({ kind: "put_notify" });
    try {
      const results = await sendMessages(rc, "put", items.map(({ address, payload, corr_id }) => ({ idem_key: address, payload, corr_id })));
      for (const result of results) {
        if (result.status !== "sent" && result.status !== "duplicate") metrics.queueDropped.inc({ queue: "mailbox.put" });
      }
    } catch (error) {
      metrics.queueDropped.inc({ queue: "mailbox.put" }, items.length);
      log.error(rc, "put notification failed", { notices: items.length, error: String(error) });
    }
  },
});

/**
 * Tell `put` subscribers about the object, in the background; a refusal is counted, not fatal.
 * Opt-in (`PUT_NOTIFY`): without a consumer the topic would only fill up.
 */
function notifyPut(rc: MailboxContext, address: string, size: number, type: string): void {
  const config = configOf(rc);
  if (!config.PUT_NOTIFY) return;
  const payload = new TextEncoder().encode(JSON.stringify({ address, size, type }));
  notices.add(rc, JSON.stringify(mailboxLimits(rc)), { address, payload, corr_id: rc.corrId }, config.BACKGROUND_BATCH_MS);
}

export async function putObject(request: RouteRequest, rc: PutContext): Promise<Response> {
  requireCapability(request, rc, { op: "put", bytes: declaredBodyBytes(request) });
  const config = configOf(rc);
  const limits = bodyLimitsOf(config);
  const mode = putModeOf(request.headers);
  if (!request.body) throw badRequest("POST /put needs a body", "empty_body");
  const declared = request.headers.has("content-length") ? Number(request.headers.get("content-length")) : undefined;

  let decoded;
  let contentType = DEFAULT_CONTENT_TYPE;
  let coding;
  try {
    if (mode.kind === "raw") {
      coding = mode.coding;
      decoded = await readDecodedBody(request.body, coding, limits, rc.signal, declared);
    } else {
      const wire = await readWireBytes(request.body, limits.maxWireBytes, rc.signal);
      const envelope = parseEnvelope(new TextDecoder().decode(wire));
      const payload = decodeBase64(envelope.payload);
      coding = parseContentCoding(envelope.meta?.content_encoding);
      contentType = storedContentType(envelope.meta?.type);
      decoded = await readDecodedBody(new Blob([payload]).stream(), coding, limits, rc.signal, payload.length);
    }
  } catch (error) {
    // this route's 1 MiB seed contract stays; the refusal says where bigger objects go
    if (error instanceof DecodeError && error.reason === "body_cap") throw new DecodeError(error.kind, error.reason, `${error.message}; ${STREAMING_HINT}`);
    throw error;
  }

  rc.timing.add("hash", decoded.hashMs);
  // A request that timed out while decoding must not store anything.
  if (rc.signal.aborted) throw rc.signal.reason;
  const store = objectStoreFor(rc);
  const outcome = await store.put(decoded.hex, decoded.bytes, contentType);
  return storedResponse(rc, store, outcome, { hex: decoded.hex, size: decoded.bytes.length, contentType, coding });
}

/** The answer to a write, shared by `POST /put` and `PUT /o/:addr`: counted, audited, announced. */
export function storedResponse(rc: PutContext, store: ObjectStore, outcome: PutOutcome, object: { hex: string; size: number; contentType: string; coding: string }): Response {
  metrics.storePuts.inc({ store: store.kind, result: outcome.status });
  if (outcome.status === "full") {
    throw storeFull(outcome);
  }
  metrics.storeBytesIn.inc({ encoding: object.coding }, object.size);
  const address = formatAddress(object.hex);
  audit(rc, { provider: null, decision: "allow", reason: outcome.status, b3: address });
  notifyPut(rc, address, object.size, object.contentType);
  return new Response(JSON.stringify({ address, size: object.size, corr_id: rc.corrId }), {
    status: outcome.status === "created" ? 201 : 200,
    headers: { "Content-Type": JSON_CONTENT_TYPE, Location: `/o/${address}`, ETag: etagOf(object.hex) },
  });
}
