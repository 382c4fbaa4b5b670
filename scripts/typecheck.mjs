#!/usr/bin/env node
// `npm run typecheck`: strict TypeScript over the root project (workers, shared code, tests),
// then each worker on its own, against the Env `wrangler types` generated from its config
// (workers/<name>/tsconfig.json, scripts/worker-types.mjs): a worker whose config lacks a binding
// one of its facets needs fails here. Exits 1 if any project fails.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_TYPES } from "./worker-types.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const projects = [".", ...Object.keys(WORKER_TYPES).map((worker) => `workers/${worker}`)];
const failed = projects.filter((project) => spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["--noEmit", "-p", project], { cwd: ROOT, stdio: "inherit" }).status !== 0);
if (failed.length) {
  console.error(`typecheck failed: ${failed.join(", ")}`);
  process.exit(1);
}
