/**
 * Streamed uploads and verified range reads of big objects over real sockets to the local runtime
 * (the bundled micronode served by Miniflare/workerd on 127.0.0.1, R2 mode, state in a temp dir).
 * Records its figures (upload rate, workerd memory, time to first byte of a range) on stdout;
 * the assertions are the contract: a body that misses its address or stops mid-stream leaves
 * nothing, memory stays far below the object's size, and a range's first byte does not wait for
 * the object's size.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import http from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { blake3 } from "@noble/hashes/blake3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { authHeaders, bundleWorker, micronodeOptions, rssBytes, serve } from "../../load/driver/targets.mjs";

const MIB = 1024 * 1024;
const BIG = 256 * MIB;
const SMALL = 1 * MIB;
const VARS = { AMNESIA: "false", REQUEST_TIMEOUT_MS: "300000" };

let target: { mf: { dispose(): Promise<void> }; url: string; pid: number | null };
const state = mkdtempSync(join(tmpdir(), "ron-big-object-"));
const build = join(tmpdir(), `ron-big-object-build-${process.pid}`);

beforeAll(async () => {
  target = await serve(micronodeOptions(bundleWorker({ outDir: build }), VARS), { persistDir: state });
}, 120_000);
afterAll(async () => {
  await target?.mf.dispose();
  rmSync(state, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

/** Deterministic pseudo-random content, generated block by block (never held whole). */
function block(seed: number, index: number): Uint8Array {
  const out = new Uint8Array(MIB);
  const words = new Uint32Array(out.buffer);
  let x = (seed * 0x9e3779b1 + index * 0x85ebca6b + 1) >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

function addressOf(seed: number, size: number): string {
  const hasher = blake3.create();
  for (let i = 0; i < size / MIB; i++) hasher.update(block(seed, i));
  return `b3:${Buffer.from(hasher.digest()).toString("hex")}`;
}

/** The object's bytes as a request body; after `stopAfter` blocks it fails like a client that went away. */
async function* body(seed: number, size: number, stopAfter = Infinity): AsyncGenerator<Uint8Array> {
  for (let i = 0; i * MIB < size; i++) {
    if (i >= stopAfter) throw new Error("client went away");
    yield block(seed, i);
  }
}

/**
 * PUT over a connection of its own (`agent: false`): fetch's pooled keep-alive connections, idle
 * for seconds while the next body is prepared, may have been closed by the runtime, and a request
 * sent on one fails ("other side closed"; seen with HEAD too), so every request after the range
 * reads gets a fresh connection.
 */
function put(address: string, source: AsyncIterable<Uint8Array>, size: number): Promise<{ status: number; json: () => unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${target.url}/o/${address}`, { method: "PUT", agent: false, headers: authHeaders({ "content-length": String(size) }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, json: () => JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      response.on("error", reject);
    });
    request.on("error", reject);
    Readable.from(source).on("error", (error) => request.destroy(error)).pipe(request);
  });
}

/** The status of a HEAD, on a connection of its own (see `put`). */
function headStatus(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${target.url}/o/${address}`, { method: "HEAD", agent: false, headers: authHeaders() }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end();
  });
}

/** Milliseconds to the first byte of a range answer, and the whole answer. */
async function timedRange(address: string, start: number, length: number): Promise<{ ttfbMs: number; bytes: Uint8Array; status: number }> {
  const began = performance.now();
  const response = await fetch(`${target.url}/o/${address}`, { headers: authHeaders({ range: `bytes=${start}-${start + length - 1}` }) });
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let ttfbMs = NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(ttfbMs)) ttfbMs = performance.now() - began;
    chunks.push(value);
  }
  return { ttfbMs, bytes: new Uint8Array(Buffer.concat(chunks)), status: response.status };
}

describe("big objects over HTTP (R2 mode)", () => {
  const bigAddress = addressOf(1, BIG);
  const smallAddress = addressOf(2, SMALL);

  it("streams a 256 MiB upload in without holding it, then serves a 64 KiB range as fast as from a 1 MiB object", async () => {
    const rssBefore = rssBytes(target.pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(target.pid) ?? 0)), 50);
    const began = performance.now();
    const response = await put(bigAddress, body(1, BIG), BIG);
    const seconds = (performance.now() - began) / 1000;
    clearInterval(sampler);
    expect(response.status).toBe(201);
    expect(response.json()).toMatchObject({ address: bigAddress, size: BIG });
    console.log(`[big-object] PUT 256 MiB: ${seconds.toFixed(2)} s (${(BIG / MIB / seconds).toFixed(1)} MiB/s); workerd RSS ${((rssBefore ?? 0) / MIB).toFixed(0)} → peak ${(rssPeak / MIB).toFixed(0)} MiB`);
    expect(rssPeak - (rssBefore ?? 0)).toBeLessThan(BIG / 2);

    expect((await put(smallAddress, body(2, SMALL), SMALL)).status).toBe(201);
    const offset = 200 * MIB + 12_345;
    const expected = block(1, 200).subarray(12_345, 12_345 + 64 * 1024);
    // first read of each builds the per-isolate top cache; then interleave big and small, 5 each
    await timedRange(bigAddress, offset, 64 * 1024);
    await timedRange(smallAddress, 1000, 64 * 1024);
    const big: number[] = [];
    const small: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = await timedRange(bigAddress, offset, 64 * 1024);
      expect(b.status).toBe(206);
      expect(b.bytes).toEqual(expected);
      big.push(b.ttfbMs);
      small.push((await timedRange(smallAddress, 1000, 64 * 1024)).ttfbMs);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`[big-object] 64 KiB range TTFB, median of 5 interleaved: 256 MiB object ${median(big).toFixed(1)} ms, 1 MiB object ${median(small).toFixed(1)} ms`);
    expect(median(big)).toBeLessThan(median(small) * 3 + 20);
  }, 300_000);

  it("leaves nothing when 32 MiB miss their address, or the client goes away mid-stream", async () => {
    const size = 32 * MIB;
    const wrong = addressOf(4, size); // the address of other bytes
    const mismatch = await put(wrong, body(3, size), size);
    expect(mismatch.status).toBe(422);
    expect((mismatch.json() as { code: string }).code).toBe("ADDRESS_MISMATCH");
    expect(await headStatus(wrong)).toBe(404);
    expect(await headStatus(addressOf(3, size))).toBe(404);

    const address = addressOf(5, size);
    await put(address, body(5, size, 10), size).catch(() => null); // the socket may just close
    expect(await headStatus(address)).toBe(404);
    expect((await put(address, body(5, size), size)).status).toBe(201);
  }, 300_000);
});
