import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JS modules of the load harness
import { WORKER_CONFIGS, bundleSize, bundleWorker } from "../../load/driver/targets.mjs";

const KIB = 1024;

/**
 * gzip bytes (JS + WASM, level 9) each deployable worker may bundle to: 120 KiB (issue 12). The
 * configs minify (source maps uploaded). The micronode worker — every service, the Sentry SDK and
 * the ML-KEM WASM in one bundle — measures ~145 KiB; its ceiling keeps ~10% headroom
 * (docs/PERFORMANCE.md, "Bundle size and startup"). The ML-KEM glue no longer carries its inline
 * copy of the WASM module (scripts/extract-mlkem-wasm.mjs), which brought overlay back under 120 KiB.
 */
const BUDGET_BYTES: Record<string, number> = { micronode: 160 * KIB, interop: 120 * KIB, overlay: 120 * KIB, edge: 120 * KIB, gateway: 120 * KIB };
/**
 * The API document and its page (GET /openapi.json, /docs) ship as Text modules: strings the
 * runtime never parses or compiles as JavaScript, so they are outside the startup budget above,
 * but they are uploaded with the worker, so they have a budget of their own.
 */
const TEXT_BUDGET_BYTES = 24 * KIB;

describe("bundle budget (wrangler deploy --dry-run)", () => {
  it.each(Object.entries(WORKER_CONFIGS) as [string, string][])("%s stays within its gzip budget, with one zod locale", (name, config) => {
    const outDir = mkdtempSync(join(tmpdir(), `ron-budget-${name}-`));
    try {
      const entry = bundleWorker({ config, outDir });
      const { gzip_bytes } = bundleSize(outDir) as { gzip_bytes: number };
      expect(gzip_bytes, `${name}: ${gzip_bytes} B gzip`).toBeLessThanOrEqual(BUDGET_BYTES[name]!);
      // zod's classic `z` namespace drags in all ~50 locales (~370 KB raw); shared/zod.ts installs English only
      // the bundle is minified: its source map names the modules that went in
      const { sources } = JSON.parse(readFileSync(`${entry}.map`, "utf8")) as { sources: string[] };
      const locales = new Set(sources.flatMap((source) => /zod\/v4\/locales\/([\w-]+)\.js$/.exec(source)?.[1] ?? []));
      expect([...locales]).toEqual(["en"]);
      const texts = readdirSync(outDir).filter((file) => /\.(txt|html)$/.test(file));
      expect(texts.some((file) => file.endsWith("openapi.json.txt")), `${name}: ${texts.join(", ")}`).toBe(true);
      const textGzip = texts.reduce((sum, file) => sum + gzipSync(readFileSync(join(outDir, file)), { level: 9 }).length, 0);
      expect(textGzip, `${name}: text modules ${textGzip} B gzip`).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
