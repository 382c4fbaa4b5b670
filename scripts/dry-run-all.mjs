#!/usr/bin/env node
// `node scripts/dry-run-all.mjs [--out FILE]`: bundles every wrangler config in every environment
// it declares (the top level, then each [env.*]) exactly as `wrangler deploy --dry-run` does, and
// prints one line per bundle with its size (JS + WASM, raw and gzip -9). With --out, also writes
// them as JSON. Exits 1 if any bundle fails. CI runs it before every deploy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, WORKER_CONFIGS, bundleSize, bundleWorker } from "../load/driver/targets.mjs";

const { values } = parseArgs({ options: { out: { type: "string" } } });

/** The environment names a wrangler.toml declares (`[env.<name>]` tables). */
export function environmentsOf(tomlText) {
  const names = new Set();
  for (const match of tomlText.matchAll(/^\s*\[\[?env\.([A-Za-z0-9_-]+)[\].]/gm)) names.add(match[1]);
  return [...names];
}

const results = [];
let failed = 0;
const scratch = mkdtempSync(join(tmpdir(), "ron-dry-run-"));
for (const [worker, config] of Object.entries(WORKER_CONFIGS)) {
  for (const env of ["", ...environmentsOf(readFileSync(join(ROOT, config), "utf8"))]) {
    const label = `${worker}${env ? ` --env ${env}` : ""}`;
    const outDir = join(scratch, `${worker}-${env || "top"}`);
    try {
      bundleWorker({ config, outDir, env });
      const size = bundleSize(outDir);
      results.push({ worker, config, env: env || null, ...size });
      console.log(`${label}: ${(size.raw_bytes / 1024).toFixed(1)} KiB, gzip ${(size.gzip_bytes / 1024).toFixed(1)} KiB`);
    } catch (error) {
      failed++;
      results.push({ worker, config, env: env || null, error: String(error.message ?? error).split("\n")[0] });
      console.log(`${label}: FAILED (${String(error.message ?? error).split("\n")[0]})`);
    }
  }
}
rmSync(scratch, { recursive: true, force: true });
if (values.out) writeFileSync(values.out, `${JSON.stringify({ bundles: results }, null, 2)}\n`);
console.log(`${results.length - failed} bundled, ${failed} failed`);
process.exit(failed ? 1 : 0);
