import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { allPositions, compareTiles, makeArchive, startPair } from "../../load/compare/pair.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { bundleWorker } from "../../load/driver/targets.mjs";

/**
 * protomaps' PMTiles worker is not part of this repository: build it as docs/PERFORMANCE.md,
 * "Tiles vs protomaps' worker", says and point PROTOMAPS_BUNDLE at its dist/index.js. Without it
 * this comparison cannot run and is reported as skipped.
 */
const protomapsBundle = process.env.PROTOMAPS_BUNDLE;
const available = Boolean(protomapsBundle && existsSync(protomapsBundle));

describe("edge tiles vs protomaps' PMTiles worker (npm run compare:protomaps)", () => {
  it.skipIf(!available)("serves the same tile for every z/x/y of one archive as protomaps' worker does, 204 where it has none", async () => {
    const oursBundle = bundleWorker({ outDir: join(tmpdir(), `ron-compare-build-${process.pid}`) });
    const archive = makeArchive({ maxZoom: 4 });
    const target = await startPair({ oursBundle, protomapsBundle, archive, port: 8813 });
    try {
      // twice: cold (read from the pack and R2) and warm (each one's cache)
      for (const pass of ["cold", "warm"]) {
        const check = await compareTiles(target.url, allPositions(4));
        expect(check.mismatches, pass).toEqual([]);
        expect(check.checked, pass).toBe(341);
        expect(check.tiles + check.empty, pass).toBe(341);
        expect(check.tiles, pass).toBe(archive.tiles);
        expect(check.empty, pass).toBeGreaterThan(0);
        // ours sends the stored gzip bytes so labelled; protomaps' worker sends them decoded
        expect(check.encodings.ours, pass).toEqual({ gzip: archive.tiles, "(no body)": 341 - archive.tiles });
        expect(check.wire_bytes.ours, pass).toBeLessThan(check.wire_bytes.protomaps);
      }
    } finally {
      await target.mf.dispose();
    }
  });
});
