import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { WORKER_CONFIGS, bundleSize, bundleWorker } from "../../load/driver/targets.mjs";

const KIB = 1024;

/**
 * gzip bytes (JS + WASM, level 9) each deployable worker may bundle to: 120 KiB (issue 12). The
 * micronode worker, every service plus the Sentry SDK in one bundle, measures 146 KiB
 * unminified; its ceiling keeps ~10% headroom until the project decides on minifying
 * (docs/PERFORMANCE.md, "Bundle size and startup").
 */
const BUDGET_BYTES: Record<string, number> = { micronode: 160 * KIB, interop: 120 * KIB, overlay: 120 * KIB, edge: 120 * KIB };

describe("bundle budget (wrangler deploy --dry-run)", () => {
  it.each(Object.entries(WORKER_CONFIGS) as [string, string][])("%s stays within its gzip budget, with one zod locale", (name, config) => {
    const outDir = mkdtempSync(join(tmpdir(), `ron-budget-${name}-`));
    try {
      const entry = bundleWorker({ config, outDir });
      const { gzip_bytes } = bundleSize(outDir) as { gzip_bytes: number };
      expect(gzip_bytes, `${name}: ${gzip_bytes} B gzip`).toBeLessThanOrEqual(BUDGET_BYTES[name]!);
      // zod's classic `z` namespace drags in all ~50 locales (~370 KB raw); shared/zod.ts installs English only
      const locales = new Set([...readFileSync(entry, "utf8").matchAll(/zod\/v4\/locales\/([\w-]+)\.js/g)].map((m) => m[1]));
      expect([...locales]).toEqual(["en"]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
