import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Two projects: "workers" runs inside workerd against the micronode worker (wrangler.toml) with
// real local R2 and Durable Objects, each test file with fresh storage; "node" runs the Node-side
// tooling (load harness, k6 scripts, perf gate) in plain Node. The JSON report feeds .ci/run.
/** The capability root key of the test runs (tests/helpers.ts mints its tokens under it). */
const TEST_ROOT_KEY = "7465737420726f6f74206b6579206f6620726f6e2d776f726b6572732074657374";

export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Most tests send bursts far above 500 rps and provoke 5xx on purpose; admission tests
            // set these knobs back to real values per request (tests/admission.test.ts).
            // METRICS_DATASET: Miniflare's local Analytics Engine dataset, so every test request goes
            // through the real binding's writeDataPoint (locally it keeps nothing: tests/observability.test.ts)
            miniflare: {
              bindings: { CAP_ROOT_KEY: TEST_ROOT_KEY, RATE_LIMIT_RPS: "1000000", RATE_LIMIT_BURST: "1000000", BROWNOUT_MIN_REQUESTS: "10000000" },
              analyticsEngineDatasets: { METRICS_DATASET: { dataset: "ron_metrics" } },
            },
          }),
        ],
        test: { name: "workers", include: ["tests/**/*.test.ts"], exclude: ["tests/node/**"], globalSetup: ["./tests/global-setup.ts"], testTimeout: 20_000 },
      },
      {
        // k6 modules are replaced by recording stand-ins so the k6 scripts can run here
        resolve: {
          alias: [
            { find: /^k6\/http$/, replacement: new URL("./tests/node/k6-stubs/http.ts", import.meta.url).pathname },
            { find: /^k6\/crypto$/, replacement: new URL("./tests/node/k6-stubs/crypto.ts", import.meta.url).pathname },
            { find: /^k6$/, replacement: new URL("./tests/node/k6-stubs/k6.ts", import.meta.url).pathname },
          ],
        },
        test: { name: "node", include: ["tests/node/**/*.test.ts"], environment: "node", testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
