#!/usr/bin/env node
// npm run publish -- <file> [--as <path>] [--url <base>] [--gzip]
// Puts a file in place as an edge asset: PUT <base>/edge/assets/<path> (default base
// http://127.0.0.1:8787, a local `npm start`; give a deployed worker's URL to publish there).
// Sends `Authorization: Bearer $ADMIN_TOKEN` when ADMIN_TOKEN is set. Prints the JSON answer.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { as: { type: "string" }, url: { type: "string", default: process.env.RON_URL ?? "http://127.0.0.1:8787" }, gzip: { type: "boolean", default: false } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: npm run publish -- <file> [--as <path>] [--url <base>] [--gzip]");
  process.exit(2);
}
const path = (values.as ?? basename(file)).replace(/^\/+/, "");
const bytes = readFileSync(file);
const headers = { "content-type": "application/octet-stream" };
if (process.env.ADMIN_TOKEN) headers.authorization = `Bearer ${process.env.ADMIN_TOKEN}`;
let body = bytes;
if (values.gzip) {
  body = gzipSync(bytes);
  headers["content-encoding"] = "gzip";
}
const target = `${values.url.replace(/\/$/, "")}/edge/assets/${path.split("/").map(encodeURIComponent).join("/")}`;
const response = await fetch(target, { method: "PUT", body, headers });
const text = await response.text();
console.log(text);
if (!response.ok) {
  console.error(`publish failed: ${response.status} ${target}`);
  process.exit(1);
}
