import { measureColdStart } from "/work/wt-store/load/driver/cold-start.mjs";
// base: `git archive e049510 | tar -x -C /tmp/st/base`, node_modules symlinked, `node scripts/postinstall.mjs` there
import { bundleWorker } from "/work/wt-store/load/driver/targets.mjs";
const base = bundleWorker({ root: "/tmp/st/base", outDir: "/tmp/st/build-base" });
const head = bundleWorker({ root: "/work/wt-store", outDir: "/tmp/st/build-head" });
for (let round = 0; round < 3; round++) {
  for (const [label, bundle] of [["base", base], ["head", head]]) {
    const r = await measureColdStart(bundle, 1);
    console.log(round, label, JSON.stringify(r));
  }
}
