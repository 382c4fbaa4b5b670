// Builds the requests a scenario sends: hot-object GETs, PUT bodies (identity, gzip, zstd) and
// signed GitHub webhooks. Payloads are prepared before the clock starts, so generating them never
// delays a scheduled request.
import { authHeaders } from "./targets.mjs";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import zstd from "@bokuweb/zstd-wasm";

export const WEBHOOK_SECRET = "load-test-github-secret";

/** Text-like bytes that compress 3-5x, so encoded bodies stay under the 10x decode cap. */
export function textBytes(length) {
  const words = ["edge", "node", "onion", "frame", "gossip", "tile", "object", "mailbox", "audit", "b3"];
  const random = randomBytes(Math.ceil(length / 3) + 16);
  const parts = [];
  let size = 0;
  for (let i = 0; size < length; i += 3) {
    if (i + 3 > random.length) i = 0;
    const word = `${words[random[i] % words.length]}${random.readUInt16LE(i + 1)} `;
    parts.push(word);
    size += word.length;
  }
  return Buffer.from(parts.join("").slice(0, length));
}

let zstdReady;
async function zstdCompress(bytes) {
  zstdReady ??= zstd.init();
  await zstdReady;
  return Buffer.from(zstd.compress(bytes, 3));
}

async function encode(bytes, encoding) {
  if (encoding === "gzip") return gzipSync(bytes);
  if (encoding === "zstd") return zstdCompress(bytes);
  return bytes;
}

/** PUT bodies: `variants` distinct payloads for every size and encoding. */
export async function preparePutPool(sizes, encodings, variants) {
  const pool = new Map();
  for (const size of sizes) {
    const entries = [];
    for (let v = 0; v < variants; v++) {
      const plain = textBytes(size);
      for (const encoding of encodings) {
        const body = await encode(plain, encoding);
        const headers = authHeaders({ "content-type": "application/octet-stream" });
        if (encoding !== "identity") headers["content-encoding"] = encoding;
        entries.push({ body, headers, encoding });
      }
    }
    pool.set(size, entries);
  }
  return pool;
}

/** Signed GitHub deliveries, one body per size; each request gets its own delivery id. */
export function prepareWebhookBodies(sizes) {
  return sizes.map((size) => {
    const filler = textBytes(Math.max(0, size - 64)).toString();
    return Buffer.from(JSON.stringify({ action: "load", ref: "refs/heads/main", filler }).slice(0, Math.max(size, 2)));
  });
}

export function signGithub(body, secret = WEBHOOK_SECRET) {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export const pick = (list) => list[Math.floor(Math.random() * list.length)];

/**
 * A function that returns the next request of the scenario's mix:
 * `{ route, method, path, headers, body }`, with `route` the template used for per-route stats.
 */
export async function requestFactory(scenario, definitions, hotAddresses, assetPaths = []) {
  const entries = [];
  for (const item of scenario.mix) {
    if (item.route === "GET /o/:addr") {
      entries.push({ weight: item.weight, make: () => ({ route: item.route, method: "GET", path: `/o/${pick(hotAddresses)}`, headers: {} }) });
    } else if (item.route === "GET /edge/assets/*") {
      const headers = item.range ? { range: item.range } : {};
      entries.push({ weight: item.weight, make: () => ({ route: item.route, method: "GET", path: `/edge/assets/${pick(assetPaths)}`, headers }) });
    } else if (item.route === "GET /edge/tiles/*") {
      const { archive, max_zoom: maxZoom } = definitions.edge_tiles;
      entries.push({
        weight: item.weight,
        make: () => {
          const z = Math.floor(Math.random() * (maxZoom + 1));
          const [x, y] = [Math.floor(Math.random() * 2 ** z), Math.floor(Math.random() * 2 ** z)];
          return { route: item.route, method: "GET", path: `/edge/tiles/${archive}/${z}/${x}/${y}.mvt`, headers: {} };
        },
      });
    } else if (item.route === "POST /put") {
      const pool = await preparePutPool(item.payload_bytes, definitions.put_payloads.encodings, definitions.put_payloads.variants);
      const all = [...pool.values()].flat();
      entries.push({ weight: item.weight, make: () => ({ route: item.route, method: "POST", path: "/put", ...pick(all) }) });
    } else if (item.route === "POST /webhooks/:provider") {
      const bodies = prepareWebhookBodies(item.payload_bytes ?? [1024]);
      const signed = bodies.map((body) => ({ body, signature: signGithub(body) }));
      entries.push({
        weight: item.weight,
        make: () => {
          const { body, signature } = pick(signed);
          return {
            route: item.route,
            method: "POST",
            path: `/webhooks/${item.provider ?? "github"}`,
            body,
            headers: {
              "content-type": "application/json",
              "x-github-event": "push",
              "x-github-delivery": randomUUID(),
              "x-hub-signature-256": signature,
            },
          };
        },
      });
    } else {
      throw new Error(`scenario route ${item.route} has no request builder`);
    }
  }
  return weightedPicker(entries);
}

/** `() => make()` of one entry, chosen with probability proportional to its weight. */
export function weightedPicker(entries) {
  const total = entries.reduce((sum, e) => sum + e.weight, 0);
  return () => {
    let roll = Math.random() * total;
    for (const entry of entries) {
      roll -= entry.weight;
      if (roll < 0) return entry.make();
    }
    return entries[entries.length - 1].make();
  };
}

/** A PMTiles archive with every tile from zoom 0 to `maxZoom`, each `tileBytes` of text. */
export async function tileArchive(maxZoom, tileBytes) {
  const { writePmtiles } = await import("./pmtiles-writer.mjs");
  const tiles = [];
  for (let z = 0; z <= maxZoom; z++) for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) tiles.push({ z, x, y, data: textBytes(tileBytes) });
  return Buffer.from(writePmtiles(tiles, { tileType: 1, tileCompression: 1, metadata: { name: "load" } }));
}
