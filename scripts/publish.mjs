#!/usr/bin/env node
// npm run publish -- <file> [--as <path>] [--url <base>] [--gzip]
// Puts a file in place as an edge asset: PUT <base>/edge/assets/<path> (default base RON_URL, else
// http://127.0.0.1:${PORT:-8787}, a local `npm start`; give a deployed worker's URL to publish there).
// Sends the capability token in RON_TOKEN, else the dev token `npm start` wrote (.ron/dev-token);
// it needs op `edge.put` for the path. Prints the JSON answer.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { baseUrl, devToken, fetchOrExit } from "./local-dev.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { as: { type: "string" }, url: { type: "string", default: baseUrl() }, gzip: { type: "boolean", default: false } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: npm run publish -- <file> [--as <path>] [--url <base>] [--gzip]");
  process.exit(2);
}
const path = (values.as ?? basename(file)).replace(/^\/+/, "");
const bytes = readFileSync(file);
const headers = { "content-type": "application/octet-stream" };
const token = devToken();
if (token) headers.authorization = `Bearer ${token}`;
let body = bytes;
if (values.gzip) {
  body = gzipSync(bytes);
  headers["content-encoding"] = "gzip";
}
const target = `${values.url.replace(/\/$/, "")}/edge/assets/${path.split("/").map(encodeURIComponent).join("/")}`;
const response = await fetchOrExit(target, { method: "PUT", body, headers });
const text = await response.text();
console.log(text);
if (!response.ok) {
  console.error(`publish failed: ${response.status} ${target}`);
  process.exit(1);
}
