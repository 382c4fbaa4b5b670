import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { defineConfig } from "vitest/config";
import { buildMacronodeServices, MACRONODE_SERVICES } from "./tests/macronode/build-services.mjs";

// Two projects: "workers" runs inside workerd against the micronode worker (wrangler.toml) with
// real local R2 and Durable Objects, each test file with fresh storage; "node" runs the Node-side
// tooling (load harness, k6 scripts, perf gate) in plain Node. The JSON report feeds .ci/run.
/** The capability root key of the test runs (tests/helpers.ts mints its tokens under it). */
const TEST_ROOT_KEY = "7465737420726f6f74206b6579206f6620726f6e2d776f726b6572732074657374";
/** Knobs every test worker gets: most tests send bursts far above 500 rps and provoke 5xx on purpose. */
const TEST_BINDINGS = { CAP_ROOT_KEY: TEST_ROOT_KEY, RATE_LIMIT_RPS: "1000000", RATE_LIMIT_BURST: "1000000", RATE_LIMIT_SERVICE_RPS: "1000000", RATE_LIMIT_SERVICE_BURST: "1000000", BROWNOUT_MIN_REQUESTS: "10000000" };

/**
 * The macronode's services as auxiliary workers beside the gateway: each bundled from source for
 * this run, with the bindings its wrangler.toml declares (Durable Objects by script_name included).
 */
async function macronodeServices() {
  const built = await buildMacronodeServices();
  return Object.entries(built).map(([name, scriptPath]) => {
    const { workerOptions } = unstable_getMiniflareWorkerOptions(`${MACRONODE_SERVICES[name as keyof typeof MACRONODE_SERVICES]}/wrangler.toml`, "");
    return { ...workerOptions, name, modules: true, scriptPath, modulesRoot: ".", bindings: { ...workerOptions.bindings, ...TEST_BINDINGS } };
  });
}

/**
 * A verified read cut short (a bad group after bytes were sent) aborts the response's
 * FixedLengthStream, and workerd then reports an unhandled rejection of its own, wrapping the
 * abort reason (measured, docs/OBJECTS.md). Exactly that wrapped form is expected; every other
 * unhandled error still fails the run.
 */
const RUNTIME_ABORT_ECHO = /^IntegrityError: stored bytes of b3:[0-9a-f]{64} do not match their address$/;

/**
 * A live fill whose upstream body stalls is aborted by its timeout mid-read; workerd then reports
 * the abort reason once more as an unhandled rejection of its own (measured: a plain `fetch` in a
 * test whose body reader is aborted mid-read shows the same, as a bare AbortError). live-fill.ts
 * aborts with a reason of its own, so exactly that echo is expected and no other.
 */
const UPSTREAM_TIMEOUT_ECHO = /^upstream did not answer within \d+ ms$/;

export default defineConfig({
  test: {
    onUnhandledError: (error) => !(error.name === "Error" && (RUNTIME_ABORT_ECHO.test(error.message) || UPSTREAM_TIMEOUT_ECHO.test(error.message))),
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
            miniflare: { bindings: TEST_BINDINGS, analyticsEngineDatasets: { METRICS_DATASET: { dataset: "ron_metrics" } } },
          }),
        ],
        test: { name: "workers", include: ["tests/**/*.test.ts"], exclude: ["tests/node/**", "tests/macronode/**"], globalSetup: ["./tests/global-setup.ts"], testTimeout: 20_000 },
      },
      {
        // the macronode: the gateway (SELF) with the interop, overlay and edge workers behind its
        // service bindings, all inside one workerd
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./workers/gateway/wrangler.toml" },
            miniflare: { bindings: TEST_BINDINGS, workers: await macronodeServices() },
          }),
        ],
        test: { name: "macronode", include: ["tests/macronode/**/*.test.ts"], globalSetup: ["./tests/global-setup.ts"], testTimeout: 20_000 },
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
