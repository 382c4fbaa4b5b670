/**
 * @module GET and HEAD of an object by its address, shared by `/o/b3:<hex>` and the edge's
 * `/cas/blake3/<hex>`: immutable bytes with a strong ETag, ranges and conditionals
 * (./representation). With `CACHE_OBJECTS`, the Cache API answers first, ranges and
 * conditionals included (./object-cache: no store call, no hashing); a full GET that misses on a
 * small object verifies it whole and keeps it for the next request. Ranged misses, and objects
 * larger than INLINE_READ_BYTES, are read group by group as without the cache, and not kept.
 * With `?proof=1` the answer is a verified slice instead (./slice-response: the range's bytes with
 * the proof a client checks them by), never from or into the cache.
 */
import { etagOf } from "../address";
import { cachesObjects } from "../config";
import { configOf } from "../context";
import { objectStoreFor, type ObjectInfo, type StoreContext } from "../store";
import { INLINE_READ_BYTES, openVerifiedRange, readVerifiedWhole } from "../store/verified-read";
import { cachedObject, keepObject, skipObject } from "./object-cache";
import { sliceResponse, wantsProof } from "./slice-response";
import { needsBody, representationResponse, representationStreamResponse, type Representation, type ServeOptions } from "./representation";

const IMMUTABLE = "public, max-age=31536000, immutable";

const representationOf = (hex: string, info: ObjectInfo): Representation => ({ etag: etagOf(hex), contentType: info.contentType, size: info.size, cacheControl: IMMUTABLE });

/** The answer to a GET or HEAD of the object `hex`, or null when no object has that address. */
export async function serveAddressed(request: Request, rc: StoreContext, hex: string, serve: ServeOptions): Promise<Response | null> {
  const config = configOf(rc);
  // HEAD, 304 and 412 need no bytes: from the cache they read none, from the store only the size and type
  const withBody = needsBody(request, etagOf(hex));
  const proof = wantsProof(request);
  const caching = cachesObjects(config) && !proof;
  if (caching) {
    const hit = await cachedObject(rc, request, hex, withBody);
    if (hit) return representationResponse(request, representationOf(hex, hit), hit.bytes, serve);
  }
  const store = objectStoreFor(rc);
  const options = { groupBytes: config.VERIFY_GROUP_BYTES, chunkBytes: config.STREAM_CHUNK_BYTES };
  // size and type, and a small object's bytes, in one call
  const info = withBody || (proof && request.method !== "HEAD") ? await store.peek(hex, Math.max(options.groupBytes, INLINE_READ_BYTES)) : await store.head(hex);
  if (!info) return null;
  if (proof) return await sliceResponse(request, rc, store, hex, etagOf(hex), info, options);
  const rep = representationOf(hex, info);
  // a ranged miss keeps the group-by-group read (a damaged group elsewhere does not refuse the
  // range, and a small range hashes only its groups); the whole object enters on a full GET
  if (caching && withBody && !request.headers.has("range")) {
    if (info.size <= INLINE_READ_BYTES) {
      // the whole object checked (an IntegrityError throws before anything is kept or sent)
      const bytes = await readVerifiedWhole(rc, store, hex, info, options);
      keepObject(rc, request, hex, info.contentType, bytes);
      return representationResponse(request, rep, bytes, serve);
    }
    skipObject();
  }
  // only the range's groups are read
  return representationStreamResponse(request, rep, (start, end) => openVerifiedRange(rc, store, hex, info, start, end, options), serve);
}
