/**
 * @module Content-addressed objects in the Cache API (`CACHE_OBJECTS`). An address names its bytes
 * forever, so an entry never goes stale and needs no purge. An entry is only ever a whole object
 * whose every group was just verified against its address, with its type: never an error, a
 * range, or bytes that failed or skipped verification, and none of a response's per-request
 * headers (X-Corr-ID, Server-Timing are made for each answer). Hits are not hashed again.
 *
 * Entries live in a cache of their own name, keyed by the address under the request's origin,
 * so no other URL of the zone can meet them and the Cloudflare dashboard can purge one by URL.
 */
import { etagOf } from "../address";
import type { RequestContext } from "../context";
import { errorText, log } from "../log";
import { metrics } from "../metrics";

/** The object cache's name (a namespace apart from `caches.default`). */
const CACHE_NAME = "ron:objects";

/** What an entry says of its object: its type and size, and its verified bytes when they were asked for. */
export interface CachedObject {
  contentType: string;
  size: number;
  bytes: Uint8Array | null;
}

let opened: Promise<Cache> | undefined;

/** The isolate's handle on the named cache, opened once (again after a failed open). */
function objectCache(): Promise<Cache> {
  opened ??= caches.open(CACHE_NAME).catch((error: unknown) => {
    opened = undefined;
    throw error;
  });
  return opened;
}

/** The entry key: the address alone under the request's origin; no query, no header changes the bytes. */
export const objectCacheKey = (request: Request, hex: string): string => new URL(`/o/b3:${hex}`, request.url).href;

/**
 * The cached object `hex`, with its bytes when `withBody`, or null (a miss: absent, unreadable,
 * or an entry that does not describe this address). Records `cache;desc=hit|miss` and its time.
 */
export async function cachedObject(rc: RequestContext, request: Request, hex: string, withBody: boolean): Promise<CachedObject | null> {
  let entry: Response | undefined;
  try {
    entry = await rc.timing.measure("cache", objectCache().then((cache) => cache.match(objectCacheKey(request, hex))));
    const found = entry ? await described(rc, entry, hex, withBody) : null;
    rc.timing.cache(found ? "hit" : "miss");
    metrics.objectCache.inc({ outcome: found ? "hit" : "miss" });
    return found;
  } catch (error) {
    // a cache that cannot answer is a miss: the store still has the object
    void entry?.body?.cancel().catch(() => {});
    log.warn(rc, "object cache lookup failed", { address: `b3:${hex}`, error: errorText(error) });
    rc.timing.cache("miss");
    metrics.objectCache.inc({ outcome: "error" });
    return null;
  }
}

/** The entry as an object, or null when its headers or length are not this address's. */
async function described(rc: RequestContext, entry: Response, hex: string, withBody: boolean): Promise<CachedObject | null> {
  const size = Number(entry.headers.get("content-length"));
  const contentType = entry.headers.get("content-type");
  if (entry.status !== 200 || entry.headers.get("etag") !== etagOf(hex) || contentType === null || !Number.isSafeInteger(size)) {
    await entry.body?.cancel();
    return null;
  }
  if (!withBody) {
    await entry.body?.cancel();
    return { contentType, size, bytes: null };
  }
  const bytes = new Uint8Array(await rc.timing.measure("cache", entry.arrayBuffer()));
  return bytes.length === size ? { contentType, size, bytes } : null;
}

/**
 * Keep a verified whole object for later reads, in the background (the answer does not wait).
 * Callers pass only bytes that were just checked against `hex`, whole.
 */
export function keepObject(rc: RequestContext, request: Request, hex: string, contentType: string, bytes: Uint8Array): void {
  const entry = new Response(bytes, {
    headers: { "Content-Type": contentType, "Content-Length": String(bytes.length), ETag: etagOf(hex), "Cache-Control": "public, max-age=31536000, immutable" },
  });
  const key = objectCacheKey(request, hex);
  rc.exec.waitUntil(
    objectCache()
      .then((cache) => cache.put(key, entry))
      .then(
        () => metrics.objectCache.inc({ outcome: "store" }),
        (error: unknown) => {
          metrics.objectCache.inc({ outcome: "error" });
          log.warn(rc, "object cache keep failed", { address: `b3:${hex}`, error: errorText(error) });
        },
      ),
  );
}

/** A miss whose bytes are not kept (too large to hold whole, or streamed). */
export const skipObject = (): void => metrics.objectCache.inc({ outcome: "skip" });
