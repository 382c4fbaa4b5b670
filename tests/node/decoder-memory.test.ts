/**
 * Encoded PUT bodies leave no memory behind in the runtime (the bundled micronode served by
 * Miniflare/workerd on 127.0.0.1, its resident memory read from /proc). Each zstd or gzip body is
 * decoded by a native node:zlib decompressor; before the decoder was released at the end of the
 * read, its native state stayed allocated (about 530 KiB per zstd body, 78 KiB per gzip body,
 * not freed even by a full GC), so workerd's memory grew with every encoded PUT without bound.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import zstd from "@bokuweb/zstd-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { authHeaders, bundleWorker, micronodeOptions, rssBytes, serve } from "../../load/driver/targets.mjs";

let target: { mf: { dispose(): Promise<void> }; url: string; pid: number };
const build = join(tmpdir(), `ron-decoder-memory-build-${process.pid}`);

beforeAll(async () => {
  target = await serve(micronodeOptions(bundleWorker({ outDir: build }), { RATE_LIMIT_RPS: "1000000", RATE_LIMIT_BURST: "1000000" }));
}, 120_000);
afterAll(async () => {
  await target?.mf.dispose();
  rmSync(build, { recursive: true, force: true });
});

/** Text-like bytes that compress 3–5× (under the 10× decode ratio cap), distinct per call. */
function text(length: number): Buffer {
  const words = ["edge", "node", "onion", "frame", "gossip", "tile", "object", "mailbox"];
  const random = randomBytes(Math.ceil(length / 3) + 16);
  let out = "";
  for (let i = 0; out.length < length; i = (i + 3) % (random.length - 3)) out += `${words[random[i]! % words.length]}${random.readUInt16LE(i + 1)} `;
  return Buffer.from(out.slice(0, length));
}

async function putEncoded(body: Buffer, encoding: "zstd" | "gzip"): Promise<number> {
  const response = await fetch(`${target.url}/put`, { method: "POST", body, headers: authHeaders({ "content-type": "application/octet-stream", "content-encoding": encoding }) });
  await response.arrayBuffer();
  return response.status;
}

describe("encoded PUT bodies and workerd's memory", () => {
  it("240 more zstd and gzip PUTs of 1 MiB (4 distinct bodies, so the store does not grow) add under 40 MiB of RSS", async () => {
    await zstd.init();
    const plain = [text(1024 * 1024), text(1024 * 1024)];
    const bodies = [...plain.map((p) => ({ body: Buffer.from(zstd.compress(p, 3)), encoding: "zstd" as const })), ...plain.map((p) => ({ body: gzipSync(p), encoding: "gzip" as const }))];
    const rounds = async (n: number) => {
      for (let round = 0; round < n; round++) {
        const statuses = await Promise.all(bodies.map(({ body, encoding }) => putEncoded(body, encoding)));
        expect(statuses.every((s) => s === 200 || s === 201)).toBe(true);
      }
    };
    // warm-up: every body stored once, and the allocator's working set for this load in place
    // (released memory is reused, so it stops growing after the first hundred or so bodies)
    await rounds(40);
    const before = rssBytes(target.pid) as number;
    await rounds(60);
    const grown = ((rssBytes(target.pid) as number) - before) / 1048576;
    // leaking: 120 × ~1.2 MiB (zstd) + 120 × ~0.7 MiB (gzip), over 200 MiB; reused: a few MiB
    expect(grown).toBeLessThan(40);
  }, 120_000);
});
