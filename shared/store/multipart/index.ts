/**
 * @module Picks the multipart strategy from configuration (`AMNESIA`), as objectStoreFor does
 * for objects, and keeps the upload gauge fresh for a scrape.
 */
import type { ConfigEnv } from "../../config";
import { configOf, type RequestContext } from "../../context";
import { metrics } from "../../metrics";
import type { StoreEnv } from "../index";
import { AmnesiaMultipartStore } from "./amnesia-multipart-store";
import type { MultipartStore } from "./multipart-store";
import { R2MultipartStore } from "./r2-multipart-store";

export type { MultipartStore, UploadRecord } from "./multipart-store";

export function multipartStoreFor(rc: RequestContext<StoreEnv & ConfigEnv>): MultipartStore {
  const config = configOf(rc);
  return config.AMNESIA ? new AmnesiaMultipartStore(rc.env.AMNESIA_STORE, { maxBytes: config.AMNESIA_MAX_BYTES, shards: config.AMNESIA_SHARDS }) : new R2MultipartStore(rc.env.OBJECTS);
}

/** Uploads that expired since the last look are counted, the open ones set as the gauge. */
export async function refreshUploadGauges(rc: RequestContext<StoreEnv & ConfigEnv>): Promise<void> {
  if (!rc.configResult.ok) return;
  const store = multipartStoreFor(rc);
  const { open, expired } = await store.open(Date.now());
  metrics.uploadsOpen.set({ store: store.kind }, open);
  if (expired > 0) metrics.uploads.inc({ store: store.kind, outcome: "expired" }, expired);
}
