#!/usr/bin/env node
// npm run cold-start -- [--runs N] [--out file]: bundle micronode and measure its cold start.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureColdStart } from "./driver/cold-start.mjs";
import { ROOT, bundleWorker } from "./driver/targets.mjs";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, out: { type: "string" } } });
const bundle = bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const result = await measureColdStart(bundle, Number(values.runs));
console.log(JSON.stringify(result, null, 2));
if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2));
