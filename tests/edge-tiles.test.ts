import { Compression, PMTiles, TileType, type RangeResponse, type Source } from "pmtiles";
import { describe, expect, it } from "vitest";
import { writePmtiles } from "../load/driver/pmtiles-writer.mjs";
import { addressOf, call, envelopeOf, gzip, randomBytes } from "./helpers";

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
});
