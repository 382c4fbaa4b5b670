#!/usr/bin/env node
// Generate each worker's OpenAPI 3.1 document from the route descriptions and the zod schemas
// that validate requests (workers/api-documents.ts): workers/<name>/openapi.json.txt (what the
// worker serves at /openapi.json, compact; a Text module) and docs/openapi.json (micronode's, every
// route, indented).
//   npm run openapi            write them
//   npm run openapi -- --check exit 1 when any is stale
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importTs, ROOT } from "./import-ts.mjs";

const check = process.argv.includes("--check");
const { WORKER_OPERATIONS, apiDocument } = await importTs("workers/api-documents.ts");

const outputs = [];
for (const worker of Object.keys(WORKER_OPERATIONS)) {
  outputs.push([`workers/${worker}/openapi.json.txt`, JSON.stringify(apiDocument(worker))]);
}
outputs.push(["docs/openapi.json", `${JSON.stringify(apiDocument("micronode"), null, 2)}\n`]);

let stale = 0;
for (const [path, text] of outputs) {
  const file = join(ROOT, path);
  let current = null;
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (current === text) continue;
  stale++;
  if (check) console.error(`stale: ${path} (run npm run openapi)`);
  else {
    writeFileSync(file, text);
    console.log(`wrote ${path}`);
  }
}
if (check && stale) process.exit(1);
if (!stale) console.log("up to date");
