/**
 * @module Live fill: an edge miss in `EDGE_MODE=live` is fetched from an allow-listed upstream
 * (the first path segment is the host), hashed with BLAKE3 as it streams, checked against an
 * expected address when the client gave one (`?b3=<hex>`), written to the content-addressed
 * store and the asset index, then served. Concurrent misses for one asset share one upstream
 * fetch (single flight). Transient upstream failures retry on the budget of shared/edge/retry.
 */
import { blake3 } from "../blake3";
import { joinChunks } from "../bytes";
import { configOf, type RequestContext } from "../context";
import { badRequest, HttpError, storeFull } from "../errors";
import { metrics } from "../metrics";
import { objectStoreFor } from "../store";
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

type Attempt = { ok: true; bytes: Uint8Array; hex: string; type: string } | { ok: false; status?: number; timedOut?: boolean; networkError?: boolean; detail: string };

async function attempt(url: string, timeoutMs: number, maxBytes: number): Promise<Attempt> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: "manual" });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, status: response.status, detail: `upstream answered ${response.status}` };
    }
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
    const bytes = joinChunks(chunks, size);
    return { ok: true, bytes, hex: hasher.digestHex(), type: response.headers.get("content-type") ?? "" };
  } catch (error) {
    if (controller.signal.aborted) return { ok: false, timedOut: true, detail: `upstream did not answer within ${timeoutMs} ms` };
    return { ok: false, networkError: true, detail: `upstream unreachable: ${(error as Error)?.message ?? error}` };
  } finally {
    clearTimeout(timer);
  }
}

async function fill(rc: RequestContext<any>, path: string, host: string, url: string, expectedHex: string | null): Promise<AssetEntry> {
  const c = configOf(rc);
  const budget: RetryBudget = { baseMs: c.EDGE_RETRY_BASE_MS, maxMs: c.EDGE_RETRY_MAX_MS, retries: c.EDGE_RETRY_COUNT };
  let last: Attempt | null = null;
  for (let n = 0; n <= budget.retries; n++) {
    if (n > 0) {
      metrics.backoffRetries.inc({ op: "edge_live_fill" });
      await new Promise((resolve) => setTimeout(resolve, backoffMs(budget, n - 1)));
    }
    metrics.liveFillAttempts.inc({ host });
    last = await attempt(url, c.EDGE_UPSTREAM_TIMEOUT_MS, c.DECOMPRESS_MAX_BYTES);
    if (last.ok || !isRetryable(last)) break;
  }
  if (!last!.ok) {
    const failed = last as Exclude<Attempt, { ok: true }>;
    if (failed.status === 404) throw new HttpError(404, "NOT_FOUND", `upstream has no ${new URL(url).pathname}`, { reason: "upstream_not_found", retryable: false });
    const status = failed.timedOut ? 504 : 502;
    throw new HttpError(status, "UPSTREAM_FAILED", failed.detail, { reason: failed.timedOut ? "upstream_timeout" : "upstream_error", retryable: true });
  }
  const got = last as Extract<Attempt, { ok: true }>;
  if (expectedHex && got.hex !== expectedHex) {
    metrics.integrityFail.inc();
    throw new HttpError(502, "INTEGRITY_FAIL", `upstream bytes hash to b3:${got.hex}, expected b3:${expectedHex}; nothing stored`, { reason: "upstream_mismatch", retryable: false });
  }
  const type = got.type && !/^application\/octet-stream\b/i.test(got.type) ? got.type : contentTypeOf(path);
  const outcome = await objectStoreFor(rc).put(got.hex, got.bytes, type);
  metrics.edgeCasWrites.inc({ status: outcome.status });
  if (outcome.status === "full") throw storeFull(outcome);
  const entry: AssetEntry = { b3: got.hex, size: got.bytes.length, type };
  const indexed = await assetIndexFor(rc).put(path, entry);
  if (indexed.status === "full") throw storeFull(indexed, "the asset's pointer");
  metrics.liveFillSuccess.inc({ host });
  return entry;
}

/**
 * Fill `path` once however many requests miss it at the same time. Keyed by the exact upstream
 * URL, which maps one-to-one onto the asset path the result is indexed under.
 */
export function liveFill(rc: RequestContext<any>, path: string, expectedHex: string | null): Promise<AssetEntry> {
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
