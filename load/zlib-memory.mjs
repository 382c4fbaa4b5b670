#!/usr/bin/env node
// node load/zlib-memory.mjs [--decodes 200] [--cases zstd:stream,zstd:close,zstd:destroy,zstd:sync,gzip:stream,gzip:close,gzip:sync,gzip:web]
// Does decoding a body in workerd leave memory behind? A minimal worker (nodejs_compat) decodes
// the same 1 MiB text body, gzip or zstd, once per request, one way per case, on a fresh
// Miniflare (127.0.0.1); workerd's RSS before and after `--decodes` requests, in KiB per decode.
// Ways: node:zlib's stream (`stream`), the same then close() or destroy(), a 1 MiB chunkSize
// (`chunk`), the one-shot *Sync call (`sync`), and DecompressionStream (`web`, gzip only).
// What it found is in docs/PERFORMANCE.md, Soak; shared/body/decoders.ts follows from it.
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import zstd from "@bokuweb/zstd-wasm";
import { rssBytes, workerdPid } from "./driver/targets.mjs";

const WORKER = `
import * as zlib from "node:zlib";
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const [coding, way] = [url.searchParams.get("coding"), url.searchParams.get("way")];
    const body = new Uint8Array(await request.arrayBuffer());
    if (way === "sync") {
      const out = coding === "zstd" ? zlib.zstdDecompressSync(body, { maxOutputLength: 4 << 20 }) : zlib.gunzipSync(body, { maxOutputLength: 4 << 20 });
      return new Response(String(out.length));
    }
    if (way === "web") {
      const out = await new Response(new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
      return new Response(String(out.byteLength));
    }
    const options = way === "chunk" ? { chunkSize: 1 << 20 } : {};
    const decoder = coding === "zstd" ? zlib.createZstdDecompress(options) : zlib.createGunzip(options);
    let n = 0;
    decoder.on("data", (c) => (n += c.length));
    await new Promise((resolve, reject) => (decoder.once("end", resolve), decoder.once("error", reject), decoder.end(body)));
    if (way === "close") decoder.close();
    if (way === "destroy") decoder.destroy();
    return new Response(String(n));
  },
};`;

const { values } = parseArgs({ options: { decodes: { type: "string", default: "200" }, cases: { type: "string", default: "zstd:stream,zstd:close,zstd:destroy,zstd:chunk,zstd:sync,gzip:stream,gzip:close,gzip:chunk,gzip:sync,gzip:web" } } });
const decodes = Number(values.decodes);
const { Miniflare } = await import("miniflare");
await zstd.init();
let text = "";
for (let n = 7; text.length < 1 << 20; ) {
  n = (n * 1103515245 + 12345) % 2147483648;
  text += `w${n % 9973} `;
}
const plain = Buffer.from(text.slice(0, 1 << 20));
const bodies = { zstd: Buffer.from(zstd.compress(plain, 3)), gzip: gzipSync(plain) };
for (const [coding, way] of values.cases.split(",").map((c) => c.split(":"))) {
  const mf = new Miniflare({ modules: [{ type: "ESModule", path: "worker.mjs", contents: WORKER }], compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"], host: "127.0.0.1", port: 0 });
  const url = await mf.ready;
  const pid = workerdPid();
  const decode = async () => (await fetch(`${url}?coding=${coding}&way=${way}`, { method: "POST", body: bodies[coding] })).text();
  for (let i = 0; i < 10; i++) await decode(); // warm-up
  const before = rssBytes(pid);
  let out = "";
  for (let i = 0; i < decodes; i++) out = await decode();
  const after = rssBytes(pid);
  console.log(`${coding} ${way}: ${decodes} decodes of ${out} bytes: RSS ${(before / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MiB, ${((after - before) / 1024 / decodes).toFixed(1)} KiB per decode`);
  await mf.dispose();
}
