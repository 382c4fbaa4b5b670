#!/usr/bin/env node
// npm run publish -- <file> [--as <path>] [--url <base>] [--gzip] [--multipart-from <bytes>]
// Puts a file in place as an edge asset: PUT <base>/edge/assets/<path> (default base RON_URL, else
// http://127.0.0.1:${PORT:-8787}, a local `npm start`; give a deployed worker's URL to publish there).
// Sends the capability token in RON_TOKEN, else the dev token `npm start` wrote (.ron/dev-token);
// it needs op `edge.put` for the path. Prints the JSON answer; a one-line summary on stderr, and
// for a large file (≥ 4 MiB) a progress bar of the upload while stderr is a terminal.
// A file larger than one request body may be (`--multipart-from`, default 1 MiB: the service's
// default MAX_BODY_BYTES) goes as a multipart upload (POST /uploads, parts 4 at a time, each
// retried on its own; the token needs op `put` too), then the path is pointed at it
// (PUT /edge/assets/<path>?b3=<hex>); the bar then counts parts. --gzip applies to single PUTs only.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { baseUrl, devToken, fetchOrExit } from "./local-dev.mjs";
import { createProgress } from "./progress.mjs";
import { importTs } from "./import-ts.mjs";

/** From this size an upload takes long enough (remote, or a slow link) to be worth a bar. */
const LARGE_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;
const mib = (n) => `${(n / 1048576).toFixed(n < 1048576 ? 3 : 1)} MiB`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    as: { type: "string" },
    url: { type: "string", default: baseUrl() },
    gzip: { type: "boolean", default: false },
    "multipart-from": { type: "string", default: String(1024 * 1024) },
  },
});
const file = positionals[0];
if (!file) {
  console.error("usage: npm run publish -- <file> [--as <path>] [--url <base>] [--gzip] [--multipart-from <bytes>]");
  process.exit(2);
}
const multipartFrom = Number(values["multipart-from"]);
if (!Number.isSafeInteger(multipartFrom) || multipartFrom < 1) {
  console.error("--multipart-from must be a whole number of bytes ≥ 1");
  process.exit(2);
}
const path = (values.as ?? basename(file)).replace(/^\/+/, "");
const bytes = readFileSync(file);
if (bytes.length > multipartFrom) {
  await publishInParts();
  process.exit(0);
}
const headers = { "content-type": "application/octet-stream" };
const token = devToken();
if (token) headers.authorization = `Bearer ${token}`;
let body = bytes;
if (values.gzip) {
  body = gzipSync(bytes);
  headers["content-encoding"] = "gzip";
}
const target = `${values.url.replace(/\/$/, "")}/edge/assets/${path.split("/").map(encodeURIComponent).join("/")}`;
const progress = createProgress("publish");
const init = { method: "PUT", body, headers };
if (progress.enabled && body.length >= LARGE_BYTES) {
  // stream the body so the bar follows the bytes as the connection takes them
  const bar = progress.phase(path, Math.ceil(body.length / CHUNK_BYTES), "chunks of 256 KiB");
  let offset = 0;
  init.body = new ReadableStream({
    pull(controller) {
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.subarray(offset, offset + CHUNK_BYTES));
      offset += CHUNK_BYTES;
      bar.increment(1, `${mib(Math.min(offset, body.length))} of ${mib(body.length)}`);
    },
  });
  init.duplex = "half";
  headers["content-length"] = String(body.length);
}
const response = await fetchOrExit(target, init);
const text = await response.text();
console.log(text);
if (!response.ok) {
  console.error(`publish failed: ${response.status} ${target}`);
  process.exit(1);
}
progress.done(`${path}: ${mib(body.length)}${values.gzip ? ` gzip (${mib(bytes.length)} raw)` : ""} → ${response.status}`);

/** A file too large for one body: a multipart upload through the SDK, then the path pointed at it. */
async function publishInParts() {
  const { InteropClient, InteropError } = await importTs("sdk/index.ts");
  const base = values.url.replace(/\/$/, "");
  const client = new InteropClient(base, { token: devToken() || undefined });
  const progress = createProgress("publish");
  let bar = null;
  try {
    const published = await client.publishLarge(path, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
      concurrency: 4,
      // the server cuts the parts (part_bytes): the bar counts its parts
      onOpen: (parts, partBytes) => (bar = progress.phase(`${path} (multipart)`, parts, `parts of ${mib(partBytes)}`)),
      onPart: (done, _parts, sent) => bar?.update(done, `${mib(sent)} of ${mib(bytes.length)}`),
    });
    console.log(JSON.stringify(published));
    progress.done(`${path}: ${mib(bytes.length)} in ${published.parts} parts → ${published.created ? 201 : 200}`);
  } catch (error) {
    if (error instanceof InteropError) {
      console.error(`publish failed: ${error.status} ${error.code}${error.reason ? ` (${error.reason})` : ""}: ${error.message} (${base})`);
    } else console.error(`cannot reach ${base}: ${error.cause?.code ?? error.message}`);
    process.exit(1);
  }
}
