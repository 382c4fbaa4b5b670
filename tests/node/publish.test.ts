import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeFileSync } from "node:fs";
import { expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const run = promisify(execFile);

it("npm run publish puts a file in place as an edge asset of a running worker", async () => {
  const bundle = bundleWorker({ outDir: join(tmpdir(), `ron-publish-build-${process.pid}`) });
  const target = await serve(micronodeOptions(bundle, { ADMIN_TOKEN: "publish-secret" }));
  try {
    const file = join(tmpdir(), `ron-publish-${process.pid}.css`);
    writeFileSync(file, "body { color: teal }");
    const script = join(__dirname, "../../scripts/publish.mjs");
    const { stdout } = await run(process.execPath, [script, file, "--as", "styles/site.css", "--url", target.url, "--gzip"], { env: { ...process.env, ADMIN_TOKEN: "publish-secret" } });
    expect(JSON.parse(stdout)).toMatchObject({ path: "styles/site.css", type: "text/css; charset=utf-8", size: 20 });
    const served = await fetch(`${target.url}/edge/assets/styles/site.css`);
    expect(await served.text()).toBe("body { color: teal }");
    await expect(run(process.execPath, [script, file, "--url", target.url], { env: { ...process.env, ADMIN_TOKEN: "" } })).rejects.toThrow(/401/);
  } finally {
    await target.mf.dispose();
  }
});
