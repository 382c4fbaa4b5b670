/**
 * @module The tile API over PMTiles packs: `GET /edge/tiles/:archive/:z/:x/:y.:ext` and TileJSON
 * at `/edge/tiles/:archive.json`. Missing tiles: 204 for vector tiles, 404 for images (the usual
 * conventions of tile servers).
 */
import type { Compression, TileType } from "pmtiles";
import { etagOf } from "../../shared/address";
import { blake3 } from "../../shared/blake3";
import { configOf } from "../../shared/context";
import type { StoreContext } from "../../shared/store";
import { PackError, packFor, packSpecs, type MountedPack } from "../../shared/edge/packs";
import { holdTileData, TILE_ENTRY_OVERHEAD_BYTES, tileCacheFor, tileKey, type HeldTileData } from "../../shared/edge/tile-cache";
import { badRequest, HttpError, notFound } from "../../shared/errors";
import { metrics } from "../../shared/metrics";
import type { RouteRequest } from "../../shared/middleware";

// The PMTiles v3 header codes, typed against pmtiles' enums (a wrong number fails to compile) but
// not imported from it as values: that would evaluate pmtiles and fflate at every isolate's startup.
const MVT: TileType.Mvt = 1;
const FORMATS: Record<number, { ext: string; type: string }> = {
  [MVT]: { ext: "mvt", type: "application/vnd.mapbox-vector-tile" },
  [2 satisfies TileType.Png]: { ext: "png", type: "image/png" },
  [3 satisfies TileType.Jpeg]: { ext: "jpg", type: "image/jpeg" },
  [4 satisfies TileType.Webp]: { ext: "webp", type: "image/webp" },
  [5 satisfies TileType.Avif]: { ext: "avif", type: "image/avif" },
};
const ENCODINGS: Partial<Record<number, string>> = { [2 satisfies Compression.Gzip]: "gzip", [3 satisfies Compression.Brotli]: "br", [4 satisfies Compression.Zstd]: "zstd" };
const TILE_CACHE = "public, max-age=3600";

async function mounted(rc: StoreContext, archive: string): Promise<MountedPack> {
  const spec = packSpecs(rc).find((p) => p.name === archive);
  if (!spec) throw notFound(`no tile archive ${archive}`);
  try {
    return await packFor(rc, spec);
  } catch (error) {
    if (error instanceof PackError) throw new HttpError(503, "SERVICE_UNAVAILABLE", error.message, { reason: "NOT_READY", retryAfterMs: 30_000 });
    throw error;
  }
}

const whole = (value: string | undefined, name: string) => {
  if (!value || !/^\d{1,10}$/.test(value)) throw badRequest(`${name} must be a whole number`, "bad_tile");
  return Number(value);
};

export async function getTile(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const pack = await mounted(rc, request.params.archive ?? "");
  const [z, x, y] = [whole(request.params.z, "z"), whole(request.params.x, "x"), whole(request.params.y, "y")];
  const format = FORMATS[pack.header.tileType];
  const ext = request.params.ext ?? "";
  if (format && ext !== format.ext && !(format.ext === "mvt" && ext === "pbf") && !(format.ext === "jpg" && ext === "jpeg")) {
    throw badRequest(`archive ${pack.spec.name} holds .${format.ext} tiles`, "bad_tile");
  }
  if (z < pack.header.minZoom || z > pack.header.maxZoom || x >= 2 ** z || y >= 2 ** z) {
    metrics.edgeMisses.inc({ cause: "tile_out_of_range" });
    throw notFound(`tile ${z}/${x}/${y} is outside the archive`);
  }
  const tile = await tileOf(rc, pack, z, x, y);
  if (!tile.bytes) {
    metrics.edgeMisses.inc({ cause: "tile_missing" });
    if (pack.header.tileType === MVT) return new Response(null, { status: 204, headers: { "Cache-Control": TILE_CACHE } });
    throw notFound(`no tile ${z}/${x}/${y}`);
  }
  metrics.edgeHits.inc({ kind: "tile" });
  // one Headers, built by the Response from plain data (a Headers object given to it is copied again)
  const encoding = ENCODINGS[pack.header.tileCompression];
  const headers: Record<string, string> = { "Content-Type": format?.type ?? "application/octet-stream", "Cache-Control": TILE_CACHE, ETag: tile.etag };
  if (encoding) headers["Content-Encoding"] = encoding;
  if (request.headers.get("if-none-match") === tile.etag) return new Response(null, { status: 304, headers });
  // the cached bytes are shared by every request of the isolate: workerd copies a body given as
  // bytes when the Response is made, so they are handed over as they are
  return new Response(request.method === "HEAD" ? null : tile.bytes, { status: 200, headers, encodeBody: encoding ? "manual" : "automatic" });
}

/** The tile from the isolate's cache (no store call), or read from the pack and kept there. */
async function tileOf(rc: StoreContext, pack: MountedPack, z: number, x: number, y: number): Promise<Extract<HeldTileData, { kind: "tile" }>> {
  const key = tileKey(pack.spec.name, pack.entry.b3, z, x, y);
  const held = tileCacheFor(rc).get(key);
  if (held?.kind === "tile") {
    metrics.edgeTileCache.inc({ result: "hit" });
    rc.timing.cache("hit");
    return held;
  }
  metrics.edgeTileCache.inc({ result: "miss" });
  rc.timing.cache("miss");
  const bytes = await pack.storedTile(z, x, y);
  const hashFrom = performance.now();
  const tile = { kind: "tile" as const, bytes, etag: bytes ? etagOf(blake3().hashHex(bytes)) : "" };
  rc.timing.add("hash", performance.now() - hashFrom);
  holdTileData(rc, key, tile, (bytes?.byteLength ?? 0) + TILE_ENTRY_OVERHEAD_BYTES);
  return tile;
}

/**
 * TileJSON is cached publicly, so its tile URLs never come from the request (a forged Host would
 * poison every cached copy): PUBLIC_BASE_URL when set, otherwise a path relative to this origin.
 */
export async function getTileJson(request: RouteRequest, rc: StoreContext): Promise<Response> {
  const pack = await mounted(rc, request.params.archive ?? "");
  const tileJson = await (await pack.archive()).getTileJson(`${configOf(rc).PUBLIC_BASE_URL ?? ""}/edge/tiles/${pack.spec.name}`);
  return Response.json(tileJson, { headers: { "Cache-Control": "public, max-age=300" } });
}
