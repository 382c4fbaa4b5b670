import { Compression, PMTiles, TileType, type RangeResponse, type Source } from "pmtiles";
import { describe, expect, it } from "vitest";
import { writePmtiles } from "../../load/driver/pmtiles-writer.mjs";

/** The pmtiles reader over bytes in memory. */
const memorySource = (bytes: Uint8Array): Source => ({
  getKey: () => "memory",
  getBytes: async (offset: number, length: number): Promise<RangeResponse> => ({ data: bytes.slice(offset, offset + length).buffer as ArrayBuffer }),
});

const tilesTo = (maxZoom: number, skip = (_z: number, _x: number, _y: number) => false) => {
  const tiles = [];
  for (let z = 0; z <= maxZoom; z++)
    for (let x = 0; x < 2 ** z; x++) for (let y = 0; y < 2 ** z; y++) if (!skip(z, x, y)) tiles.push({ z, x, y, data: new TextEncoder().encode(`tile ${z}/${x}/${y} `.repeat(1 + ((x + y) % 5))) });
  return tiles;
};

describe("the PMTiles writer of fixtures and load tests", () => {
  it("keeps a small archive's entries in the root directory", async () => {
    const archive = writePmtiles(tilesTo(2), { tileType: TileType.Mvt, tileCompression: Compression.None });
    const header = await new PMTiles(memorySource(archive)).getHeader();
    expect(header.leafDirectoryLength).toBe(0);
    expect(header.numTileEntries).toBe(21);
  });

  it("moves entries to leaf directories when the root would pass the 16 KiB readers fetch first, and every tile still reads back", async () => {
    // zoom 0-6 minus a sparse diagonal: 5,4xx entries, far more than a 16 KiB root holds
    const tiles = tilesTo(6, (z, x, y) => z === 6 && (x * 7 + y) % 9 === 0);
    const archive = writePmtiles(tiles, { tileType: TileType.Mvt, tileCompression: Compression.None });
    const reader = new PMTiles(memorySource(archive));
    const header = await reader.getHeader();
    expect(header.rootDirectoryOffset + header.rootDirectoryLength).toBeLessThanOrEqual(16384);
    expect(header.leafDirectoryLength).toBeGreaterThan(0);
    expect(header.numTileEntries).toBe(tiles.length);
    for (const t of tiles) expect(new Uint8Array((await reader.getZxy(t.z, t.x, t.y))!.data)).toEqual(t.data);
    expect(await reader.getZxy(6, 0, 0)).toBeUndefined(); // skipped: (0*7+0) % 9 === 0
  });
});
