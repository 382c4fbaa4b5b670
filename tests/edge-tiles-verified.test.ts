import { env, runInDurableObject } from "cloudflare:test";
import { Compression, TileType, zxyToTileId } from "pmtiles";
import { describe, expect, it } from "vitest";
import { writePmtiles } from "../load/driver/pmtiles-writer.mjs";
import { R2, addressOf, amnesiaStub, bytesOf, call, envelopeOf, metricsText, randomBytes, flipStoredByte } from "./helpers";

/**
 * Tiles from a multi-MiB pack, each read through verified ranges of the stored archive (the
 * default 16 KiB groups): a group flipped underneath fails only the tiles it covers.
 */
const G = 16 * 1024;
const MAX_ZOOM = 4; // 341 tiles of 8–16 KiB: about 4 MiB, well past the 1 MiB a pack is ever read whole
const tiles: { z: number; x: number; y: number; data: Uint8Array }[] = [];
for (let z = 0; z <= MAX_ZOOM; z++) for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) tiles.push({ z, x, y, data: randomBytes(8192 + ((x * 7919 + y * 104729 + z) % 8192)) });
const pack = writePmtiles(tiles, { tileType: TileType.Mvt, tileCompression: Compression.None, metadata: { name: "big", vector_layers: [] } });
const hex = addressOf(pack).slice(3);

/** Where each tile lies in the archive: the writer lays tile data out by tile id from the header's tile data offset. */
const tileDataOffset = Number(new DataView(pack.buffer, pack.byteOffset).getBigUint64(56, true));
const placed = [...tiles].sort((a, b) => zxyToTileId(a.z, a.x, a.y) - zxyToTileId(b.z, b.x, b.y));
const spans = new Map<(typeof tiles)[number], { start: number; end: number }>();
placed.reduce((at, t) => (spans.set(t, { start: at, end: at + t.data.length }), at + t.data.length), tileDataOffset);

const integrityFailures = async () => Number(/^integrity_fail_total (\d+)$/m.exec(await metricsText())?.[1] ?? NaN);

for (const [mode, storeOverrides] of [["amnesia", {}], ["r2", R2]] as const) {
  /** Flip one stored byte of the archive underneath the service. */
  const flip = (at: number) => flipStoredByte(mode, hex, at);

  describe(`tiles from a multi-MiB pack, verified range reads (${mode} store)`, () => {
    it("serves every tile of a ~4 MiB pack; a corrupted middle group fails only its tiles (502 INTEGRITY_FAIL), never their bytes", async () => {
      expect(pack.length).toBeGreaterThan(3.5 * 1024 * 1024);
      const name = `big${mode}`;
      const path = `maps/${name}-${crypto.randomUUID().slice(0, 8)}.pmtiles`;
      // a fresh tile cache per mode (the cache is keyed by archive name and address, shared by the isolate)
      const knobs = { ...storeOverrides, MAX_BODY_BYTES: String(8 * 1024 * 1024), EDGE_PACKS: `${name}=${path}@${hex}`, EDGE_TILE_CACHE_BYTES: String(1024 * 1024) };
      const published = await call(`/edge/assets/${path}`, { method: "PUT", body: pack }, knobs);
      expect(published.status).toBe(201);

      // flip a byte in a group in the middle of the tile data, before the pack is ever mounted:
      // a mount that read (and hashed) the whole archive would refuse every tile
      const victim = placed[Math.floor(placed.length / 2)]!;
      const flipAt = spans.get(victim)!.start + 100;
      await flip(flipAt);
      const bad = { start: Math.floor(flipAt / G) * G, end: (Math.floor(flipAt / G) + 1) * G };
      const inBadGroup = (t: (typeof tiles)[number]) => spans.get(t)!.start < bad.end && spans.get(t)!.end > bad.start;

      const failuresBefore = await integrityFailures();
      let refused = 0;
      for (const t of tiles) {
        const response = await call(`/edge/tiles/${name}/${t.z}/${t.x}/${t.y}.mvt`, {}, knobs);
        if (inBadGroup(t)) {
          expect(response.status, `${t.z}/${t.x}/${t.y}`).toBe(502);
          expect((await envelopeOf(response)).code).toBe("INTEGRITY_FAIL");
          refused++;
        } else {
          expect(response.status, `${t.z}/${t.x}/${t.y}`).toBe(200);
          // Buffer.equals: toEqual walks 16 KiB arrays element by element, slow for 341 tiles
          expect(Buffer.from(await bytesOf(response)).equals(Buffer.from(t.data)), `${t.z}/${t.x}/${t.y}`).toBe(true);
        }
      }
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(refused).toBeLessThanOrEqual(3); // a 16 KiB group covers at most three 8 KiB+ tiles
      expect(await integrityFailures()).toBeGreaterThanOrEqual(failuresBefore + refused);

      // a refused tile is never cached: asked again, it is refused again; a good one is now a cache hit
      expect((await call(`/edge/tiles/${name}/${victim.z}/${victim.x}/${victim.y}.mvt`, {}, knobs)).status).toBe(502);
      const good = tiles.find((t) => !inBadGroup(t))!;
      expect(await bytesOf(await call(`/edge/tiles/${name}/${good.z}/${good.x}/${good.y}.mvt`, {}, knobs))).toEqual(good.data);

      // TileJSON reads the metadata through verified ranges too
      expect((await (await call(`/edge/tiles/${name}.json`, {}, knobs)).json<{ name: string }>()).name).toBe("big");
    }, 90_000);
  });
}

describe("tiles from a multi-MiB pack whose header group is corrupted", () => {
  it("refuses to mount it (503 naming the hash), serving no tile", async () => {
    const path = `maps/hdr-${crypto.randomUUID().slice(0, 8)}.pmtiles`;
    const other = writePmtiles(tiles.slice(0, 200), { tileType: TileType.Mvt, tileCompression: Compression.None });
    const knobs = { MAX_BODY_BYTES: String(8 * 1024 * 1024), EDGE_PACKS: `hdr=${path}` };
    expect((await call(`/edge/assets/${path}`, { method: "PUT", body: other }, knobs)).status).toBe(201);
    await runInDurableObject(amnesiaStub(addressOf(other).slice(3)), (instance) => {
      (instance as unknown as { objects: Map<string, { bytes: Uint8Array }> }).objects.get(addressOf(other).slice(3))!.bytes[20]! ^= 0x01;
    });
    const response = await call("/edge/tiles/hdr/0/0/0.mvt", {}, knobs);
    expect(response.status).toBe(503);
    expect((await envelopeOf(response)).message).toMatch(/do not hash/);
  });
});
