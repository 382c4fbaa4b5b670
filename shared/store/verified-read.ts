/**
 * @module Integrity on read: fetch an object and re-hash it before a byte is served. A mismatch
 * is counted (`integrity_fail_total`), logged with the address, and answered 502 INTEGRITY_FAIL.
 */
import { blake3 } from "../blake3";
import type { RequestContext } from "../context";
import { HttpError, notFound } from "../errors";
import { metrics } from "../metrics";
import type { ObjectStore, StoredObject } from "./object-store";

export async function readVerified(rc: Pick<RequestContext<any>, "corrId">, store: ObjectStore, hex: string): Promise<StoredObject> {
  const object = await store.get(hex);
  if (!object) throw notFound(`no object b3:${hex}`);
  if (blake3().hashHex(object.bytes) !== hex) {
    metrics.integrityFail.inc();
    console.error(JSON.stringify({ level: "error", msg: "integrity failure", corr_id: rc.corrId, address: `b3:${hex}`, store: store.kind }));
    throw new HttpError(502, "INTEGRITY_FAIL", `stored bytes of b3:${hex} do not match their address`, { reason: "integrity", retryable: false });
  }
  return object;
}
