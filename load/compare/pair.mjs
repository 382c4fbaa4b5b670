// One Miniflare serving two tile servers side by side: ours (micronode, a PMTiles pack published
// through its asset API) and protomaps' PMTiles Cloudflare worker (a bundle built outside this
// repository, the same archive in its R2 bucket), plus a hello-world worker as the ceiling of the
// harness itself. Requests pick their worker with Miniflare's `MF-Route-Override` header, so all
// three go through the same socket and entry worker. Everything listens on 127.0.0.1 only.
import http from "node:http";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { writePmtiles } from "../driver/pmtiles-writer.mjs";
import { ROOT, authHeaders, helloOptions, micronodeOptions, serve } from "../driver/targets.mjs";
import { textBytes } from "../driver/traffic.mjs";
import { seeded } from "../driver/seeded.mjs";

export const ARCHIVE_NAME = "tiles";
const ASSET_PATH = "compare/tiles.pmtiles";
const COMPATIBILITY = { compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"] };


/**
 * A gzip-compressed vector-tile archive, zoom 0 to `maxZoom`: low zooms hold bigger tiles (tens of
 * KiB gzipped), the deepest zoom small ones (a few hundred bytes to a few KiB), and `emptyShare`
 * of the deepest zoom holds no tile (sea: both servers answer 204). Tile bodies are gzipped text,
 * opaque to both servers.
 */
export function makeArchive({ maxZoom = 6, emptyShare = 0.15, seed = 12 } = {}) {
  const random = seeded(seed);
  const rawBytes = (z) => {
    const [low, high] = z <= 2 ? [48_000, 160_000] : z <= 4 ? [6_000, 32_000] : [500, 5_000];
    return Math.round(low + (high - low) * random() ** 2);
  };
  const tiles = [];
  for (let z = 0; z <= maxZoom; z++) {
    for (let x = 0; x < 2 ** z; x++) {
      for (let y = 0; y < 2 ** z; y++) {
        if (z === maxZoom && z > 0 && random() < emptyShare) continue;
        tiles.push({ z, x, y, data: gzipSync(textBytes(rawBytes(z))) });
      }
    }
  }
  const bytes = Buffer.from(writePmtiles(tiles, { tileType: 1, tileCompression: 2, metadata: { name: ARCHIVE_NAME } }));
  const sizes = tiles.map((t) => t.data.length).sort((a, b) => a - b);
  return {
    bytes,
    maxZoom,
    tiles: tiles.length,
    positions: ((4 ** (maxZoom + 1) - 1) / 3) | 0,
    tile_bytes: { min: sizes[0], p50: sizes[sizes.length >> 1], mean: Math.round(sizes.reduce((n, s) => n + s, 0) / sizes.length), max: sizes[sizes.length - 1] },
  };
}

/** Every z/x/y of the archive's zoom range, present or not. */
export function allPositions(maxZoom) {
  const out = [];
  for (let z = 0; z <= maxZoom; z++) for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) out.push([z, x, y]);
  return out;
}

/** The path of tile z/x/y on each worker, and the header that routes to it. */
export const SIDES = {
  ours: { worker: "micronode", path: ([z, x, y]) => `/edge/tiles/${ARCHIVE_NAME}/${z}/${x}/${y}.mvt` },
  protomaps: { worker: "protomaps", path: ([z, x, y]) => `/${ARCHIVE_NAME}/${z}/${x}/${y}.mvt` },
  hello: { worker: "hello", path: () => "/" },
  // optional: another build of ours (e.g. before a change), measured in the same rounds
  base: { worker: "micronode-base", path: ([z, x, y]) => `/edge/tiles/${ARCHIVE_NAME}/${z}/${x}/${y}.mvt` },
};

/**
 * Start the three workers in one Miniflare on 127.0.0.1 and publish the archive to both tile
 * servers. `protomapsCache`: whether protomaps' worker gets Miniflare's Cache API (its
 * `caches.default`); off, every tile it serves is an R2 range read.
 */
export async function startPair({ oursBundle, protomapsBundle, archive, protomapsCache = true, port = 0, inspectorPort, baseBundle }) {
  if (!existsSync(protomapsBundle)) throw new Error(`no protomaps bundle at ${protomapsBundle} (build it first: docs/PERFORMANCE.md, "Tiles vs protomaps' worker")`);
  const oursOptions = (bundle) => micronodeOptions(bundle, {
    RATE_LIMIT_RPS: "1000000",
    RATE_LIMIT_BURST: "1000000",
    EDGE_PACKS: `${ARCHIVE_NAME}=${ASSET_PATH}`,
    // the archive is one asset: let its PUT through
    MAX_BODY_BYTES: String(archive.bytes.length + 1024),
    DECOMPRESS_MAX_BYTES: String(archive.bytes.length + 1024),
  });
  const ours = oursOptions(oursBundle);
  const base = baseBundle ? { ...oursOptions(baseBundle), name: SIDES.base.worker } : null;
  const protomaps = {
    name: "protomaps",
    modules: true,
    scriptPath: protomapsBundle,
    modulesRoot: dirname(protomapsBundle),
    ...COMPATIBILITY,
    compatibilityDate: "2024-09-02", // its wrangler.toml.example's
    compatibilityFlags: [],
    bindings: { ALLOWED_ORIGINS: "*" },
    r2Buckets: ["BUCKET"],
    cache: protomapsCache,
  };
  const target = await serve({ workers: [ours, protomaps, helloOptions(), ...(base ? [base] : [])] }, { port, inspectorPort });
  try {
    for (const worker of [ours.name, ...(base ? [base.name] : [])]) {
      const put = await fetch(`${target.url}/edge/assets/${ASSET_PATH}`, { method: "PUT", body: archive.bytes, headers: authHeaders({ "MF-Route-Override": worker }) });
      if (!put.ok) throw new Error(`publishing the archive to ${worker} failed: ${put.status} ${await put.text()}`);
    }
    const bucket = await target.mf.getR2Bucket("BUCKET", "protomaps");
    await bucket.put(`${ARCHIVE_NAME}.pmtiles`, archive.bytes.buffer.slice(archive.bytes.byteOffset, archive.bytes.byteOffset + archive.bytes.length));
    return target;
  } catch (error) {
    await target.mf.dispose();
    throw error;
  }
}

/** GET one path through the shared socket to `worker`, with the whole body (raw bytes, no decoding). */
export function getRaw(agent, url, worker, path) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: hostname, port, path, agent, headers: { "MF-Route-Override": worker }, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${worker} ${path}`)));
    req.on("error", reject);
  });
}

/** A body as its Content-Encoding says it decodes (both servers send gzip or nothing). */
export function decodedBody(response) {
  if (response.headers["content-encoding"] !== "gzip") return response.body;
  try {
    return gunzipSync(response.body);
  } catch {
    return null; // labelled gzip but not gzip
  }
}

/**
 * Fetch every position from both tile servers (which also warms both caches) and compare: the
 * same status (200 or 204) and byte-identical tiles once each body is decoded per its
 * Content-Encoding (ours sends the stored gzip bytes so labelled; protomaps' worker decompresses
 * tiles and sends them plain). Returns counts, wire bytes and the first mismatches.
 */
export async function compareTiles(url, positions, { concurrency = 16, side = "ours" } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result = { checked: 0, tiles: 0, empty: 0, wire_bytes: { [side]: 0, protomaps: 0 }, encodings: { [side]: {}, protomaps: {} }, mismatches: [] };
  let next = 0;
  const worker = async () => {
    while (next < positions.length) {
      const at = positions[next++];
      const [a, b] = await Promise.all([getRaw(agent, url, SIDES[side].worker, SIDES[side].path(at)), getRaw(agent, url, SIDES.protomaps.worker, SIDES.protomaps.path(at))]);
      result.checked++;
      for (const [name, r] of [[side, a], ["protomaps", b]]) {
        const encoding = r.status === 200 ? (r.headers["content-encoding"] ?? "identity") : "(no body)";
        result.encodings[name][encoding] = (result.encodings[name][encoding] ?? 0) + 1;
        result.wire_bytes[name] += r.body.length;
      }
      if (a.status !== b.status || !decodedBody(a)?.equals(decodedBody(b)) || ![200, 204].includes(a.status)) {
        if (result.mismatches.length < 10) result.mismatches.push({ tile: at.join("/"), [side]: a.status, protomaps: b.status, [`${side}_bytes`]: a.body.length, protomaps_bytes: b.body.length });
      } else if (a.status === 200) result.tiles++;
      else result.empty++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return result;
}

/** `() => request` for the load engine: `positions` in a seeded random order, cycled. */
export function tileSequence(side, positions, seed = 7, length = 50_000) {
  const random = seeded(seed);
  const { worker, path } = SIDES[side];
  const requests = Array.from({ length }, () => {
    const at = positions[Math.floor(random() * positions.length)];
    return { route: side, method: "GET", path: path(at), headers: { "MF-Route-Override": worker } };
  });
  let i = 0;
  return () => requests[i++ % requests.length];
}

export const BUILD_DIR = join(ROOT, "load/.build/compare-micronode");
