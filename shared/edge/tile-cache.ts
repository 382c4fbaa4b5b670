/**
 * @module The isolate's tile cache (`EDGE_TILE_CACHE_BYTES`): verified bytes of small packs and
 * the served bytes of recent tiles, keyed by content address so a re-published pack (a new
 * address) never serves a stale tile. Plain data only, so every request may read it.
 */
import { configOf, type RequestContext } from "../context";
import { metrics } from "../metrics";
import { ByteLru } from "./byte-lru";

/** `pack`: a whole pack's bytes, hashed to its address once; `tile`: one tile (null: none there) and its ETag. */
export type HeldTileData = { kind: "pack"; bytes: Uint8Array } | { kind: "tile"; bytes: Uint8Array | null; etag: string };

/** What an entry costs beyond its bytes (key, ETag, map slot): a floor, so missing tiles count too. */
export const TILE_ENTRY_OVERHEAD_BYTES = 256;

const cache = new ByteLru<HeldTileData>(0);

export function tileCacheFor(rc: RequestContext): ByteLru<HeldTileData> {
  const cap = configOf(rc).EDGE_TILE_CACHE_BYTES;
  if (cache.capBytes !== cap) {
    cache.resize(cap);
    metrics.edgeTileCacheBytes.set({}, cache.usedBytes);
  }
  return cache;
}

/** Keeps data in the tile cache (evicting the least recently used to fit) and reports the bytes held. */
export function holdTileData(rc: RequestContext, key: string, value: HeldTileData, bytes: number): void {
  const held = tileCacheFor(rc);
  held.set(key, value, bytes);
  metrics.edgeTileCacheBytes.set({}, held.usedBytes);
}

export const tileKey = (archive: string, hex: string, z: number, x: number, y: number) => `tile\u0000${archive}\u0000${hex}\u0000${z}/${x}/${y}`;
