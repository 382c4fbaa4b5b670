/**
 * @module Live fill: an edge miss in `EDGE_MODE=live` is fetched from an allow-listed upstream
 * (the first path segment is the host), hashed with BLAKE3 as it streams, checked against an
 * expected address when the client gave one (`?b3=<hex>`), written to the content-addressed
 * store and the asset index, then served. An object becomes readable by its address only once
 * its bytes hashed to it: a pinned fill of declared length streams upstream → hash → store and
 * fails closed; any other is held until hashed, then stored. Concurrent misses for one asset
 * share one upstream fetch (single flight). Transient upstream failures (a cut-short body too)
 * retry on the budget of shared/edge/retry.
 */
import { blake3 } from "../blake3";
import { joinChunks } from "../bytes";
import { configOf, type RequestContext } from "../context";
import { badRequest, HttpError, storeFull } from "../errors";
import { metrics } from "../metrics";
import { UploadError } from "../domain-errors";
import { objectStoreFor, type PutOutcome, type StoreContext, type StoreEnv } from "../store";
import type { ConfigEnv } from "../config";
import { keepOutboardOf } from "../store/verified-read";
import { VerifiedUpload } from "../store/verified-upload";
import type { AssetEntry } from "./asset-index";
import { assetIndexFor } from "./asset-index";
import { contentTypeOf } from "./asset-path";
import { backoffMs, isRetryable, type RetryBudget } from "./retry";

const inflight = new Map<string, Promise<AssetEntry>>();

/**
 * Host of an asset path (its first segment), or a 403 when it is not allow-listed. The host must
 * be written exactly as on the (lower-case) allow-list, so one upstream URL has one asset path.
 */
export function upstreamOf(path: string, allowHosts: readonly string[]): { host: string; rest: string } {
  const slash = path.indexOf("/");
  const host = slash < 0 ? path : path.slice(0, slash);
  if (!allowHosts.includes(host)) throw new HttpError(403, "FORBIDDEN", `upstream host ${host} is not on the allow-list`, { reason: "not_allowed", retryable: false });
  return { host, rest: slash < 0 ? "" : path.slice(slash + 1) };
}

/**
 * The upstream URL of an asset path's remainder. The path was percent-decoded once, so every
 * segment is percent-encoded again (all but letters, digits and `-_.!~*'()`): a segment holding
 * `?`, `#` or `%` (say `%2e%2e` from a request's `%252e%252e`) stays one literal segment upstream
 * and never becomes a query, a fragment or a dot segment. `.` and `..` cannot be sent literally
 * (URL parsers resolve them), so they are refused.
 */
export function upstreamUrlOf(scheme: string, host: string, rest: string): string {
  const segments = rest === "" ? [] : rest.split("/");
  if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw badRequest("asset path has empty, . or .. segments", "bad_path");
  }
  return `${scheme}://${host}/${segments.map(encodeURIComponent).join("/")}`;
}

/** A fill attempt: stored (bytes verified first), or why not; nothing is ever stored by a failed one. */
type Attempt =
  | { ok: true; hex: string; size: number; type: string; outcome: PutOutcome }
  | { ok: false; status?: number; timedOut?: boolean; networkError?: boolean; mismatch?: boolean; detail: string };

/** What a fill attempt touches: the store (and the request's timing of it). */
type FillContext = RequestContext<StoreEnv & ConfigEnv>;

interface FillLimits {
  timeoutMs: number;
  /** Cap of a fill held in memory while it is hashed (the address is not known until its end). */
  bufferedMaxBytes: number;
  /** Cap of a pinned fill streamed into the store (MAX_OBJECT_BYTES). */
  streamedMaxBytes: number;
  groupBytes: number;
  chunkBytes: number;
}

const typeOf = (response: Response, path: string) => {
  const type = response.headers.get("content-type") ?? "";
  return type && !/^application\/octet-stream\b/i.test(type) ? type : contentTypeOf(path);
};

/** A byte count from Content-Length, or null when absent or not plain digits. */
function declaredLength(response: Response): number | null {
  const value = response.headers.get("content-length");
  return value !== null && /^\d{1,16}$/.test(value) ? Number(value) : null;
}

async function attempt(rc: FillContext, url: string, path: string, expectedHex: string | null, limits: FillLimits): Promise<Attempt> {
  const controller = new AbortController();
  const late = `upstream did not answer within ${limits.timeoutMs} ms`;
  // aborted with a reason of its own: workerd reports a bare abort of a body mid-read as an unhandled rejection
  const timer = setTimeout(() => controller.abort(new Error(late)), limits.timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: "manual" });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, status: response.status, detail: `upstream answered ${response.status}` };
    }
    const declared = declaredLength(response);
    // a decoded body's length is not the declared one: such bodies take the buffered way
    const encoded = (response.headers.get("content-encoding") ?? "identity").toLowerCase() !== "identity";
    const streamed = expectedHex !== null && declared !== null && !encoded;
    const maxBytes = streamed ? limits.streamedMaxBytes : limits.bufferedMaxBytes;
    if (declared !== null && declared > maxBytes) {
      await response.body?.cancel();
      return { ok: false, status: 413, detail: `upstream object is ${declared} bytes, over ${maxBytes}` };
    }
    const type = typeOf(response, path);
    if (streamed) return await streamedFill(rc, response, expectedHex, declared, type, controller.signal, limits);
    return await bufferedFill(rc, response, expectedHex, type, maxBytes, limits);
  } catch (error) {
    if (controller.signal.aborted) return { ok: false, timedOut: true, detail: late };
    if (error instanceof UploadError) return uploadFailure(error);
    return { ok: false, networkError: true, detail: `upstream unreachable: ${(error as Error)?.message ?? error}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A pinned fill of known length streams upstream → hash → store: the body goes into the store
 * through the tree hash in `STREAM_CHUNK_BYTES` chunks, and errors before its last byte unless it
 * hashed to the pinned address at exactly its declared length, so the store never completes a
 * write of other bytes and nothing becomes readable under any address.
 */
async function streamedFill(rc: FillContext, response: Response, hex: string, size: number, type: string, signal: AbortSignal, limits: FillLimits): Promise<Attempt> {
  const upload = new VerifiedUpload(response.body ?? new Blob([]).stream(), { hex, size, contentType: type, groupBytes: limits.groupBytes, chunkBytes: limits.chunkBytes }, signal);
  const store = objectStoreFor(rc);
  try {
    if (await store.head(hex)) {
      await upload.verifyOnly(); // held already: still filled only from bytes that are it
      return { ok: true, hex, size, type, outcome: { status: "existing" } };
    }
    return { ok: true, hex, size, type, outcome: await store.putStream(hex, upload) };
  } catch (error) {
    if (upload.failure && !signal.aborted) throw upload.failure;
    throw error;
  }
}

/**
 * Any other fill is hashed as it streams in, held (up to `bufferedMaxBytes`) until its address
 * is known, and stored only then (and only if it matches a pin), with its outboard so that
 * ranged reads of it cover only their groups.
 */
async function bufferedFill(rc: FillContext, response: Response, expectedHex: string | null, type: string, maxBytes: number, limits: FillLimits): Promise<Attempt> {
  const hasher = blake3().createHasher();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        return { ok: false, status: 413, detail: `upstream object exceeds ${maxBytes} bytes` };
      }
      hasher.update(value);
      chunks.push(value);
    }
  }
  const hex = hasher.digestHex();
  if (expectedHex && hex !== expectedHex) return { ok: false, mismatch: true, detail: `upstream bytes hash to b3:${hex}, expected b3:${expectedHex}` };
  const bytes = joinChunks(chunks, size);
  const store = objectStoreFor(rc);
  const outcome = await store.put(hex, bytes, type);
  if (outcome.status === "created") await keepOutboardOf(rc, store, hex, bytes, limits);
  return { ok: true, hex, size, type, outcome };
}

function uploadFailure(error: UploadError): Attempt {
  if (error.failure === "address_mismatch") return { ok: false, mismatch: true, detail: `upstream bytes: ${error.message}` };
  if (error.failure === "long_body") return { ok: false, status: 502, detail: `upstream ${error.message}` };
  return { ok: false, networkError: true, detail: `upstream ${error.message}` }; // cut short: worth another try
}

async function fill(rc: FillContext, path: string, host: string, url: string, expectedHex: string | null): Promise<AssetEntry> {
  const c = configOf(rc);
  const budget: RetryBudget = { baseMs: c.EDGE_RETRY_BASE_MS, maxMs: c.EDGE_RETRY_MAX_MS, retries: c.EDGE_RETRY_COUNT };
  const limits: FillLimits = {
    timeoutMs: c.EDGE_UPSTREAM_TIMEOUT_MS,
    bufferedMaxBytes: c.DECOMPRESS_MAX_BYTES,
    streamedMaxBytes: c.MAX_OBJECT_BYTES,
    groupBytes: c.VERIFY_GROUP_BYTES,
    chunkBytes: c.STREAM_CHUNK_BYTES,
  };
  let last: Attempt | null = null;
  for (let n = 0; n <= budget.retries; n++) {
    if (n > 0) {
      metrics.backoffRetries.inc({ op: "edge_live_fill" });
      await new Promise((resolve) => setTimeout(resolve, backoffMs(budget, n - 1)));
    }
    metrics.liveFillAttempts.inc({ host });
    last = await attempt(rc, url, path, expectedHex, limits);
    if (last.ok || !isRetryable(last)) break;
  }
  if (!last!.ok) {
    const failed = last as Exclude<Attempt, { ok: true }>;
    if (failed.mismatch) {
      metrics.integrityFail.inc();
      throw new HttpError(502, "INTEGRITY_FAIL", `${failed.detail}; nothing stored`, { reason: "upstream_mismatch", retryable: false });
    }
    if (failed.status === 404) throw new HttpError(404, "NOT_FOUND", `upstream has no ${new URL(url).pathname}`, { reason: "upstream_not_found", retryable: false });
    const status = failed.timedOut ? 504 : 502;
    throw new HttpError(status, "UPSTREAM_FAILED", failed.detail, { reason: failed.timedOut ? "upstream_timeout" : "upstream_error", retryable: true });
  }
  const got = last as Extract<Attempt, { ok: true }>;
  metrics.edgeCasWrites.inc({ status: got.outcome.status });
  if (got.outcome.status === "full") throw storeFull(got.outcome);
  const entry: AssetEntry = { b3: got.hex, size: got.size, type: got.type };
  const indexed = await assetIndexFor(rc).put(path, entry);
  if (indexed.status === "full") throw storeFull(indexed, "the asset's pointer");
  metrics.liveFillSuccess.inc({ host });
  return entry;
}

/**
 * Fill `path` once however many requests miss it at the same time. Keyed by the exact upstream
 * URL, which maps one-to-one onto the asset path the result is indexed under.
 */
export function liveFill(rc: StoreContext, path: string, expectedHex: string | null): Promise<AssetEntry> {
  const c = configOf(rc);
  const { host, rest } = upstreamOf(path, c.EDGE_ALLOW_HOSTS);
  const url = upstreamUrlOf(c.EDGE_UPSTREAM_SCHEME, host, rest);
  const key = `${url}\u0000${expectedHex ?? ""}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = fill(rc, path, host, url, expectedHex).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}
