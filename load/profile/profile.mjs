// One profiled load run: serve micronode with its inspector on 127.0.0.1, drive a scenario of the
// load harness, and record a CPU profile of the worker's isolate for `seconds` of the measured
// run. Writes the .cpuprofile, an SVG flame graph and the top-N tables (Markdown).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { gitCommit, runScenario } from "../driver/load.mjs";
import { ROOT } from "../driver/targets.mjs";
import { analyseProfile, bundleLocator, renderTopTable } from "./analyse.mjs";
import { renderFlameGraph } from "./flamegraph.mjs";
import { startCpuProfile } from "./inspector.mjs";

const loadAverage = () => os.loadavg().map((v) => v.toFixed(2)).join(", ");

/**
 * @param {object} o
 * @param {string} o.scenario    name in load/scenarios.json
 * @param {string} o.bundle      bundled micronode entry (bundleWorker); its .map names the frames
 * @param {number} [o.seconds]   profile length (default 10)
 * @param {number} [o.durationS] load length (default seconds + 1; at least `seconds`)
 * @param {number} [o.rate]      arrivals per second (default: the scenario's)
 * @param {boolean} [o.max]      closed loop instead
 * @param {number} [o.connections]
 * @param {Record<string,string>} [o.vars]
 * @param {number} [o.samplingIntervalUs]  asked of V8 (default 100)
 * @param {number} [o.top]       rows per table (default 25)
 * @param {string} [o.outDir]    default load/reports
 * @param {string} [o.command]   the command line, for the report header
 */
export async function profileScenario(o) {
  const seconds = o.seconds ?? 10;
  const durationS = o.durationS ?? seconds + 1;
  if (!(seconds > 0)) throw new Error(`--seconds must be positive, got ${o.seconds}`);
  if (durationS < seconds) throw new Error(`the load (--duration ${durationS}) must last at least the profile (--seconds ${seconds})`);
  const samplingIntervalUs = o.samplingIntervalUs ?? 100;
  const loadBefore = loadAverage();

  let recording = null;
  const { report, target, client } = await runScenario({
    scenario: o.scenario,
    rate: o.rate,
    max: o.max,
    connections: o.connections,
    durationS,
    bundle: o.bundle,
    vars: o.vars,
    inspectorPort: 0, // any free port on loopback
    onMeasure: async ({ mf }) => {
      const port = Number(new URL(await mf.getInspectorURL()).port);
      recording = await startCpuProfile({ port, worker: "micronode", seconds, samplingIntervalUs });
    },
  });
  let profile;
  try {
    profile = await recording.done; // already stopped: the load lasted at least as long
  } finally {
    client.close();
    await target.mf.dispose();
  }
  const loadAfter = loadAverage();

  const analysis = analyseProfile(profile, { locator: bundleLocator(o.bundle, ROOT) });
  const commit = gitCommit();
  const stamp = report.started_at.replace(/[:.]/g, "-");
  const outDir = o.outDir ?? join(ROOT, "load/reports");
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `profile-${o.scenario}-${stamp}`);
  const files = { cpuprofile: `${base}.cpuprofile`, svg: `${base}.svg`, md: `${base}.md` };

  const p95 = report.routes.map((r) => `${r.route} ${r.p95_ms} ms`).join(", ");
  const header = [
    `# CPU profile: ${o.scenario}`,
    "",
    `- command: \`${o.command ?? `npm run profile -- ${o.scenario} --seconds ${seconds}`}\``,
    `- commit ${commit}, ${report.started_at}; ${report.machine.cpus} cores (${report.machine.cpu_model}), Node ${report.machine.node}`,
    `- load: ${report.mode} for ${durationS} s, achieved ${report.totals.achieved_rps} req/s, failures ${report.totals.failures} of ${report.totals.requests} (shed ${(report.totals.shed_rate * 100).toFixed(1)}%); p95 ${p95}`,
    `- profile: worker \`${recording.target}\` (its Durable Objects run in the same isolate), ${seconds} s from the start of the measured run, sampling interval asked ${samplingIntervalUs} µs`,
    `- load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}`,
    "",
  ];
  const table = renderTopTable(analysis, { top: o.top ?? 25, header });
  const svg = renderFlameGraph(analysis, {
    title: `micronode CPU profile — ${o.scenario}, ${report.mode}, ${seconds} s`,
    subtitle: `commit ${commit}, ${report.started_at}; ${report.totals.achieved_rps} req/s achieved; load average ${loadBefore} → ${loadAfter}`,
  });
  writeFileSync(files.cpuprofile, JSON.stringify(profile));
  writeFileSync(files.svg, svg);
  writeFileSync(files.md, table);
  return { files, table, analysis, report, commit };
}
