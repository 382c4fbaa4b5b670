// The first three /readyz of a fresh local runtime with AMNESIA_SHARDS=<n> (docs/PERFORMANCE.md, sharded amnesia store).
// node docs/perf/amnesia-shards-cold-readyz.mjs <n>   (serves on 127.0.0.1:8814)
import { bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";
const shards = process.argv[2];
const bundle = bundleWorker({ outDir: `${(await import("node:os")).tmpdir()}/shards-cold-build-${process.pid}` });
const target = await serve(micronodeOptions(bundle, { AMNESIA_SHARDS: shards }), { port: 8814 });
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const r = await fetch(`${target.url}/readyz`);
  console.log(shards, i, Math.round(performance.now() - t0), r.status, (await r.text()).slice(0, 200));
}
await target.mf.dispose();
