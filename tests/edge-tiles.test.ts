import { Compression, PMTiles, TileType, type RangeResponse, type Source } from "pmtiles";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { writePmtiles } from "../load/driver/pmtiles-writer.mjs";
import { addressOf, amnesiaPointerStub, amnesiaStub, bytesOf, call, envelopeOf, gzip, randomBytes } from "./helpers";
import { metricValue } from "./overlay-helpers";

const tile = (label: string) => new TextEncoder().encode(`vector tile ${label}`);
const tiles = [
  { z: 0, x: 0, y: 0, data: tile("0/0/0") },
  { z: 1, x: 0, y: 0, data: tile("1/0/0") },
  { z: 1, x: 1, y: 1, data: tile("1/1/1") },
];
const archive = writePmtiles(tiles, { tileType: TileType.Mvt, tileCompression: Compression.None, metadata: { name: "demo", vector_layers: [] } });
const packs = { EDGE_PACKS: "demo=maps/demo.pmtiles" };

/** The pmtiles client library, pointed at the running worker through HTTP Range requests. */
class WorkerSource implements Source {
  getKey() {
    return "worker:/edge/assets/maps/demo.pmtiles";
  }
  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const response = await call("/edge/assets/maps/demo.pmtiles", { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    if (response.status !== 206 && response.status !== 200) throw new Error(`range read failed: ${response.status}`);
    return { data: await response.arrayBuffer(), etag: response.headers.get("etag") ?? undefined };
  }
}

describe("PMTiles packs and the tile API", () => {
  it("serves a published PMTiles archive to the pmtiles client over Range requests", async () => {
    expect((await call("/edge/assets/maps/demo.pmtiles", { method: "PUT", body: archive })).status).toBe(201);
    const client = new PMTiles(new WorkerSource());
    const header = await client.getHeader();
    expect(header).toMatchObject({ specVersion: 3, minZoom: 0, maxZoom: 1, tileType: TileType.Mvt });
    for (const t of tiles) expect(new Uint8Array((await client.getZxy(t.z, t.x, t.y))!.data)).toEqual(t.data);
    expect(await client.getZxy(1, 1, 0)).toBeUndefined();
    expect(await client.getMetadata()).toMatchObject({ name: "demo" });
  });

  it("serves tiles by z/x/y with the archive's type, 204 for missing vector tiles", async () => {
    const response = await call("/edge/tiles/demo/1/1/1.mvt", {}, packs);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/vnd.mapbox-vector-tile");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(tiles[2]!.data);
    expect((await call("/edge/tiles/demo/0/0/0.pbf", {}, packs)).status).toBe(200);
    expect((await call("/edge/tiles/demo/1/1/0.mvt", {}, packs)).status).toBe(204);
    expect((await call("/edge/tiles/demo/5/0/0.mvt", {}, packs)).status).toBe(404); // beyond max zoom
    expect((await call("/edge/tiles/demo/1/2/0.mvt", {}, packs)).status).toBe(404); // x outside 2^z
    const wrongExt = await call("/edge/tiles/demo/0/0/0.png", {}, packs);
    expect(wrongExt.status).toBe(400);
    expect((await envelopeOf(wrongExt)).reason).toBe("bad_tile");
    expect((await call("/edge/tiles/demo/a/0/0.mvt", {}, packs)).status).toBe(400);
    expect((await call("/edge/tiles/nope/0/0/0.mvt", {}, packs)).status).toBe(404);
  });

  it("serves TileJSON with a relative tile URL template by default", async () => {
    const json = await (await call("/edge/tiles/demo.json", {}, packs)).json<any>();
    expect(json.tiles).toEqual(["/edge/tiles/demo/{z}/{x}/{y}.mvt"]);
    expect(json.minzoom).toBe(0);
    expect(json.maxzoom).toBe(1);
  });

  it("never writes a forged Host into the publicly cached TileJSON; PUBLIC_BASE_URL sets the origin", async () => {
    // A worker sees the Host header as the request URL's origin.
    const forged = { headers: { Host: "evil.example" } };
    const relative = await call("http://evil.example/edge/tiles/demo.json", forged, packs);
    expect(relative.status).toBe(200);
    expect(relative.headers.get("cache-control")).toMatch(/^public/);
    const text = await relative.text();
    expect(text).not.toContain("evil.example");
    expect(JSON.parse(text).tiles).toEqual(["/edge/tiles/demo/{z}/{x}/{y}.mvt"]);

    const based = await call("http://evil.example/edge/tiles/demo.json", forged, { ...packs, PUBLIC_BASE_URL: "https://tiles.example.org/maps/" });
    const body = await based.text();
    expect(body).not.toContain("evil.example");
    expect(JSON.parse(body).tiles).toEqual(["https://tiles.example.org/maps/edge/tiles/demo/{z}/{x}/{y}.mvt"]);
  });

  it.each(["ftp://tiles.example.org", "tiles.example.org", "https://user:pw@tiles.example.org", "https://tiles.example.org/?x=1", "https://tiles.example.org/#top"])(
    "refuses PUBLIC_BASE_URL %s as invalid config (503 NOT_READY)",
    async (base) => {
      const response = await call("/edge/tiles/demo.json", {}, { ...packs, PUBLIC_BASE_URL: base });
      expect(response.status).toBe(503);
      expect((await envelopeOf(response)).message).toContain("PUBLIC_BASE_URL");
    },
  );

  it("labels gzip-compressed tiles with Content-Encoding", async () => {
    const zipped = writePmtiles([{ z: 0, x: 0, y: 0, data: await gzip(tile("gz")) }], { tileType: TileType.Mvt, tileCompression: Compression.Gzip });
    await call("/edge/assets/maps/gz.pmtiles", { method: "PUT", body: zipped });
    const response = await call("/edge/tiles/gz/0/0/0.mvt", {}, { EDGE_PACKS: "gz=maps/gz.pmtiles" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-encoding")).toBe("gzip");
  });

  it("serves a compressed tile's stored bytes under its Content-Encoding, never decoded bytes labelled gzip", async () => {
    const stored = await gzip(tile("stored as gzip"));
    const zipped = writePmtiles([{ z: 0, x: 0, y: 0, data: stored }], { tileType: TileType.Mvt, tileCompression: Compression.Gzip });
    await call("/edge/assets/maps/gz-stored.pmtiles", { method: "PUT", body: zipped });
    const knobs = { EDGE_PACKS: "gzs=maps/gz-stored.pmtiles" };
    for (const round of ["cold", "warm"]) {
      const response = await call("/edge/tiles/gzs/0/0/0.mvt", {}, knobs);
      expect(response.status, round).toBe(200);
      expect(response.headers.get("content-encoding"), round).toBe("gzip");
      const body = new Uint8Array(await response.arrayBuffer());
      expect(body, round).toEqual(stored);
      const decoded = await new Response(new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
      expect(new Uint8Array(decoded), round).toEqual(tile("stored as gzip"));
    }
  });

  it("reports a bad pack on /readyz: not PMTiles, or not the expected hash", async () => {
    await call("/edge/assets/maps/junk.pmtiles", { method: "PUT", body: randomBytes(500) });
    const junk = await call("/readyz", {}, { EDGE_PACKS: "junk=maps/junk.pmtiles" });
    expect(junk.status).toBe(503);
    const report = await junk.json<any>();
    expect(report.missing).toContain("packs");
    expect(report.detail.packs).toMatch(/not a PMTiles v3 archive/);
    expect((await call("/edge/tiles/junk/0/0/0.mvt", {}, { EDGE_PACKS: "junk=maps/junk.pmtiles" })).status).toBe(503);

    const wrongHash = await call("/readyz", {}, { EDGE_PACKS: `demo=maps/demo.pmtiles@${"0".repeat(64)}` });
    expect((await wrongHash.json<any>()).detail.packs).toMatch(/expected b3:0{64}/);
    const rightHash = await call("/readyz", {}, { EDGE_PACKS: `demo=maps/demo.pmtiles@${addressOf(archive).slice(3)}` });
    expect(rightHash.status).toBe(200);
    expect((await call("/readyz", {}, { EDGE_PACKS: "gone=maps/missing.pmtiles" })).status).toBe(503);
  });

  describe("the tile cache", () => {
    let serial = 0;
    const unique = () => `${Date.now().toString(36)}-${serial++}`;
    const packOf = (label: string, size = 0) =>
      writePmtiles(
        [0, 1, 2, 3].map((i) => ({ z: 1, x: i % 2, y: i >> 1, data: size ? randomBytes(size) : tile(`${label} ${i}`) })),
        { tileType: TileType.Mvt, tileCompression: Compression.None },
      );
    const objects = async (hex: string, run: (objects: Map<string, { bytes: Uint8Array }>) => void) =>
      runInDurableObject(amnesiaStub(hex), (instance) => run((instance as unknown as { objects: Map<string, { bytes: Uint8Array }> }).objects));
    const tileStart = (pack: Uint8Array, data: Uint8Array) => {
      outer: for (let i = 0; i <= pack.length - data.length; i++) {
        for (let j = 0; j < data.length; j++) if (pack[i + j] !== data[j]) continue outer;
        return i;
      }
      throw new Error("tile not in pack");
    };

    it("serves a warm tile from the cache: no store read, even after the stored pack is gone", async () => {
      const path = `maps/warm-${unique()}.pmtiles`;
      const pack = packOf("warm");
      expect((await call(`/edge/assets/${path}`, { method: "PUT", body: pack })).status).toBe(201);
      const knobs = { EDGE_PACKS: `warm=${path}` };
      const first = await call("/edge/tiles/warm/1/1/0.mvt", {}, knobs);
      expect(first.status).toBe(200);
      const etag = first.headers.get("etag");
      expect(await bytesOf(first)).toEqual(tile("warm 1"));

      await objects(addressOf(pack).slice(3), (held) => held.delete(addressOf(pack).slice(3))); // any store read now fails
      const hits = await metricValue("edge_tile_cache_total", { result: "hit" });
      const again = await call("/edge/tiles/warm/1/1/0.mvt", {}, knobs);
      expect(again.status).toBe(200);
      expect(again.headers.get("etag")).toBe(etag);
      expect(await bytesOf(again)).toEqual(tile("warm 1"));
      expect(await metricValue("edge_tile_cache_total", { result: "hit" })).toBe(hits + 1);
      // the pack was held verified, so its other tiles need no store read either
      expect(await bytesOf(await call("/edge/tiles/warm/1/0/1.mvt", {}, knobs))).toEqual(tile("warm 2"));
    });

    it("serves the new tile once the pack is re-published at a new address", async () => {
      const path = `maps/moved-${unique()}.pmtiles`;
      const knobs = { EDGE_PACKS: `moved=${path}` };
      await call(`/edge/assets/${path}`, { method: "PUT", body: packOf("old") });
      expect(await bytesOf(await call("/edge/tiles/moved/1/0/0.mvt", {}, knobs))).toEqual(tile("old 0"));
      expect((await call(`/edge/assets/${path}`, { method: "PUT", body: packOf("new") })).status).toBe(201);
      expect(await bytesOf(await call("/edge/tiles/moved/1/0/0.mvt", {}, knobs))).toEqual(tile("new 0"));
    });

    it("re-reads a pointer moved elsewhere after EDGE_PACK_RECHECK_MS (0: every request)", async () => {
      const path = `maps/elsewhere-${unique()}.pmtiles`;
      const [before, after] = [packOf("before"), packOf("after")];
      await call(`/edge/assets/${path}`, { method: "PUT", body: before });
      await call(`/edge/assets/maps/staging-${unique()}.pmtiles`, { method: "PUT", body: after }); // stores the bytes
      const knobs = { EDGE_PACKS: `elsewhere=${path}`, EDGE_PACK_RECHECK_MS: "600000" };
      expect(await bytesOf(await call("/edge/tiles/elsewhere/1/1/1.mvt", {}, knobs))).toEqual(tile("before 3"));
      // another isolate's publish: the pointer moves in the index, this isolate is not told
      const entry = JSON.stringify({ b3: addressOf(after).slice(3), size: after.length, type: "application/vnd.pmtiles" });
      await runInDurableObject(amnesiaPointerStub(`edge:${path}`), (instance) => instance.setPointer(`edge:${path}`, entry, 1 << 30));
      expect(await bytesOf(await call("/edge/tiles/elsewhere/1/1/1.mvt", {}, knobs))).toEqual(tile("before 3")); // within the window
      expect(await bytesOf(await call("/edge/tiles/elsewhere/1/1/1.mvt", {}, { ...knobs, EDGE_PACK_RECHECK_MS: "0" }))).toEqual(tile("after 3"));
    });

    it("stays within EDGE_TILE_CACHE_BYTES, evicting the least recently used tiles", async () => {
      const path = `maps/big-${unique()}.pmtiles`;
      const pack = packOf("big", 1500); // over a quarter of the cap: range reads, tiles cached one by one
      await call(`/edge/assets/${path}`, { method: "PUT", body: pack });
      const knobs = { EDGE_PACKS: `big=${path}`, EDGE_TILE_CACHE_BYTES: "4096" };
      const misses = () => metricValue("edge_tile_cache_total", { result: "miss" });
      const before = await misses();
      for (const [x, y] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        expect((await call(`/edge/tiles/big/1/${x}/${y}.mvt`, {}, knobs)).status).toBe(200);
        const held = await metricValue("edge_tile_cache_bytes");
        expect(held).toBeGreaterThan(0);
        expect(held).toBeLessThanOrEqual(4096);
      }
      expect(await misses()).toBe(before + 4);
      expect((await call("/edge/tiles/big/1/1/1.mvt", {}, knobs)).status).toBe(200); // the newest: still held
      expect(await misses()).toBe(before + 4);
      expect((await call("/edge/tiles/big/1/0/0.mvt", {}, knobs)).status).toBe(200); // the oldest: evicted
      expect(await misses()).toBe(before + 5);
      expect(await metricValue("edge_tile_cache_bytes")).toBeLessThanOrEqual(4096);
    });

    it("never serves a cold tile from corrupted stored bytes", async () => {
      const path = `maps/rot-${unique()}.pmtiles`;
      const pack = packOf("rot");
      await call(`/edge/assets/${path}`, { method: "PUT", body: pack });
      const at = tileStart(pack, tile("rot 0"));
      await objects(addressOf(pack).slice(3), (held) => {
        held.get(addressOf(pack).slice(3))!.bytes[at]! ^= 1;
      });
      const response = await call("/edge/tiles/rot/1/0/0.mvt", {}, { EDGE_PACKS: `rot=${path}` });
      expect(response.status).toBe(503);
      expect((await envelopeOf(response)).message).toMatch(/do not hash/);
    });
  });
});
