/**
 * Runs in Node before the workerd tests: a stand-in Sentry ingest on 127.0.0.1 that records the
 * envelopes it receives, so tests can prove what is (and is not) sent. Never leaves loopback.
 */
import { createServer } from "node:http";
import type { TestProject } from "vitest/node";

export default async function setup(project: TestProject) {
  const received: { path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/__received") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(received));
        return;
      }
      received.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  project.provide("sentryIngestPort", typeof address === "object" && address ? address.port : 0);

  // A stand-in upstream for edge live fill: good, slow, flaky, stalling, lying and echoing answers.
  const hits = new Map<string, number>();
  const stalled = new Set<import("node:http").ServerResponse>();
  const upstream = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/__hits") {
      res.end(JSON.stringify(Object.fromEntries(hits)));
      return;
    }
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const [, kind, id] = path.split("/");
    if (kind === "files") res.end(`content of ${id}`);
    else if (kind === "slow") setTimeout(() => res.end(`slow ${id}`), 200);
    else if (kind === "flaky") {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end(n <= 2 ? "busy" : `flaky ${id}`);
    } else if (kind === "down") {
      res.statusCode = 503;
      res.end("down");
    } else if (kind === "stall") {
      stalled.add(res); // never answers; closed when the test run ends
    } else if (kind === "lie") res.end("not what you expected");
    else if (kind === "echo") res.end(req.url); // the request target exactly as it arrived
    else if (kind === "bytes" || kind === "liebig" || kind === "short" || kind === "drip" || kind === "chunked") {
      // /<kind>/<id>/<n>: n bytes of fillBytes(id, n); liebig: its last byte differs; short:
      // half, then the connection is cut 400 ms later; drip: half, a pause, the rest; chunked: no Content-Length
      const bytes = fillBytes(id ?? "", Number(path.split("/")[3]));
      if (kind === "liebig") bytes[bytes.length - 1]! ^= 0x01;
      if (kind !== "chunked") res.setHeader("Content-Length", String(bytes.length));
      res.setHeader("Content-Type", "application/octet-stream");
      const half = bytes.subarray(0, bytes.length >> 1);
      if (kind === "short") {
        res.write(half);
        setTimeout(() => res.destroy(), 400); // the rest never comes
      } else if (kind === "drip") {
        res.write(half);
        setTimeout(() => res.end(bytes.subarray(half.length)), 400);
      } else if (kind === "chunked") {
        res.write(half); // two writes: Node sends Transfer-Encoding: chunked (one end() would set Content-Length)
        res.end(bytes.subarray(half.length));
      } else res.end(bytes);
    }
    else {
      res.statusCode = 404;
      res.end("no such file");
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamAddress = upstream.address();
  project.provide("upstreamPort", typeof upstreamAddress === "object" && upstreamAddress ? upstreamAddress.port : 0);
  return async () => {
    for (const res of stalled) res.destroy();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** The bytes the stand-in upstream serves at /bytes/<id>/<n> (tests/edge-live-fill.test.ts makes the same). */
function fillBytes(id: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const unit = new TextEncoder().encode(`${id}:`);
  for (let i = 0; i < n; i++) out[i] = unit[i % unit.length]! ^ ((i >> 10) & 0xff);
  return out;
}

declare module "vitest" {
  export interface ProvidedContext {
    sentryIngestPort: number;
    upstreamPort: number;
  }
}
