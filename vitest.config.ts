import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd against the micronode worker (wrangler.toml), with real local R2 and
// Durable Objects; each test file gets fresh storage. The JSON report feeds .ci/run's summary.
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["./tests/global-setup.ts"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
  },
});
