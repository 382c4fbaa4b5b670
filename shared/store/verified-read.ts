/**
 * @module Integrity on read: fetch an object and re-hash it before a byte is served. A mismatch
 * is counted (`integrity_fail_total`), logged with the address, and thrown as IntegrityError
 * (502 INTEGRITY_FAIL at the HTTP edge, a 502 refusal frame on a session).
 */
import { blake3 } from "../blake3";
import type { RequestContext } from "../context";
import { IntegrityError, MissingObjectError } from "../domain-errors";
import { metrics } from "../metrics";
import type { ObjectStore, StoredObject } from "./object-store";
import { log } from "../log";

export async function readVerified(rc: Pick<RequestContext<any>, "corrId"> & Partial<Pick<RequestContext<any>, "timing">>, store: ObjectStore, hex: string): Promise<StoredObject> {
  const object = await store.get(hex);
  if (!object) throw new MissingObjectError(`b3:${hex}`);
  const from = performance.now();
  const actual = blake3().hashHex(object.bytes);
  rc.timing?.add("hash", performance.now() - from);
  if (actual !== hex) {
    metrics.integrityFail.inc();
    log.error(rc, "integrity failure", { address: `b3:${hex}`, store: store.kind });
    throw new IntegrityError(`b3:${hex}`);
  }
  return object;
}
