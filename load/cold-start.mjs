#!/usr/bin/env node
// npm run cold-start -- [--runs N] [--out file]: bundle micronode and measure its cold start.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureColdStart } from "./driver/cold-start.mjs";
import { ROOT, bundleWorker } from "./driver/targets.mjs";
import { createProgress } from "../scripts/progress.mjs";

const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, out: { type: "string" } } });
const bundle = bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
const progress = createProgress("cold start");
const result = await measureColdStart(bundle, Number(values.runs), progress);
// stdout is the JSON alone; the summary line goes to stderr
progress.done(`median ready ${Math.round(result.ready_ms.median)} ms (min ${Math.round(result.ready_ms.min)}, max ${Math.round(result.ready_ms.max)}) over ${result.runs} runs, first request ${Math.round(result.first_request_ms.median)} ms`);
console.log(JSON.stringify(result, null, 2));
if (values.out) writeFileSync(values.out, JSON.stringify(result, null, 2));
