#!/usr/bin/env node
// Writes the PUT and webhook bodies the k6 scripts send (load/k6/payloads/, git-ignored), from
// the same generator the local driver uses: identity, gzip and zstd for every PUT size.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { preparePutPool, prepareWebhookBodies, tileArchive } from "../driver/traffic.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const definitions = JSON.parse(readFileSync(join(here, "../scenarios.json"), "utf8"));
const out = join(here, "payloads");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const putSizes = new Set();
const webhookSizes = new Set();
for (const s of Object.values(definitions.scenarios)) {
  for (const item of s.mix) {
    if (item.route === "POST /put") item.payload_bytes.forEach((n) => putSizes.add(n));
    if (item.route === "POST /webhooks/:provider") (item.payload_bytes ?? [1024]).forEach((n) => webhookSizes.add(n));
  }
}
const manifest = { put: [], webhooks: [] };
const pool = await preparePutPool([...putSizes], definitions.put_payloads.encodings, 2);
for (const [size, entries] of pool) {
  entries.forEach((entry, i) => {
    const file = `put-${size}-${i}.${entry.encoding}.bin`;
    writeFileSync(join(out, file), entry.body);
    manifest.put.push({ size, encoding: entry.encoding, file });
  });
}
prepareWebhookBodies([...webhookSizes]).forEach((body, i) => {
  const file = `webhook-${i}.json`;
  writeFileSync(join(out, file), body);
  manifest.webhooks.push({ file });
});
writeFileSync(join(out, "tiles.pmtiles"), await tileArchive(definitions.edge_tiles.max_zoom, definitions.edge_tiles.tile_bytes));
manifest.tiles = "tiles.pmtiles";
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
console.log(`wrote ${manifest.put.length} PUT and ${manifest.webhooks.length} webhook bodies to ${out}`);
