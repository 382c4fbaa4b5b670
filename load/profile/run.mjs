#!/usr/bin/env node
// npm run profile -- <scenario> [--seconds N] [--rate N | --max] [--duration S] [--connections N]
//                    [--var NAME=VALUE ...] [--interval US] [--top N] [--out-dir DIR] [--bundle path]
// Runs a load scenario against micronode on 127.0.0.1 and records a CPU profile of the worker over
// workerd's inspector for N seconds (default 10) of the measured run. Writes
// load/reports/profile-<scenario>-<time>.{cpuprofile,svg,md} and prints the top-N tables.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDefinitions } from "../driver/load.mjs";
import { ROOT, bundleWorker } from "../driver/targets.mjs";
import { profileScenario } from "./profile.mjs";

const OPTIONS = {
  seconds: { type: "string", default: "10" },
  rate: { type: "string" },
  max: { type: "boolean", default: false },
  duration: { type: "string" },
  connections: { type: "string" },
  var: { type: "string", multiple: true, default: [] },
  interval: { type: "string", default: "100" },
  top: { type: "string", default: "25" },
  "out-dir": { type: "string" },
  bundle: { type: "string" },
};
const parsed = (() => {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
})();
const { values, positionals } = parsed;
const scenario = positionals[0];
const number = (name, value) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got "${value}"`);
    process.exit(2);
  }
  return n;
};
if (!scenario) {
  console.error("usage: npm run profile -- <scenario> [--seconds N] [--rate N|--max] [--duration S] [--var NAME=VALUE] [--interval US] [--top N] [--out-dir DIR]");
  process.exit(2);
}
const known = loadDefinitions().scenarios;
if (!known[scenario]) {
  console.error(`unknown scenario "${scenario}"; known: ${Object.keys(known).join(", ")}`);
  process.exit(2);
}
const vars = Object.fromEntries(values.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));

const options = {
  scenario,
  seconds: number("seconds", values.seconds),
  durationS: number("duration", values.duration),
  rate: number("rate", values.rate),
  max: values.max,
  connections: number("connections", values.connections),
  vars,
  samplingIntervalUs: number("interval", values.interval),
  top: number("top", values.top),
  outDir: values["out-dir"],
  command: `npm run profile -- ${process.argv.slice(2).join(" ")}`,
};
if (options.durationS !== undefined && options.durationS < options.seconds) {
  console.error(`the load (--duration ${options.durationS}) must last at least the profile (--seconds ${options.seconds})`);
  process.exit(2);
}
const bundle = values.bundle ?? bundleWorker({ outDir: join(ROOT, "load/.build/micronode") });
try {
  const { files, table } = await profileScenario({ ...options, bundle });
  console.log(table);
  console.log(`profile:    ${files.cpuprofile}\nflame graph: ${files.svg}\ntable:      ${files.md}`);
  process.exit(0);
} catch (error) {
  console.error(`profile failed: ${error.message}`);
  process.exit(1);
}
