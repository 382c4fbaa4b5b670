import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { HARNESS_TOKEN, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const run = promisify(execFile);

it("npm run publish puts a file in place as an edge asset of a running worker", async () => {
  const bundle = bundleWorker({ outDir: join(tmpdir(), `ron-publish-build-${process.pid}`) });
  const target = await serve(micronodeOptions(bundle));
  try {
    const file = join(tmpdir(), `ron-publish-${process.pid}.css`);
    writeFileSync(file, "body { color: teal }");
    const script = join(__dirname, "../../scripts/publish.mjs");
    const { stdout } = await run(process.execPath, [script, file, "--as", "styles/site.css", "--url", target.url, "--gzip"], { env: { ...process.env, RON_TOKEN: HARNESS_TOKEN } });
    expect(JSON.parse(stdout)).toMatchObject({ path: "styles/site.css", type: "text/css; charset=utf-8", size: 20 });
    const served = await fetch(`${target.url}/edge/assets/styles/site.css`);
    expect(await served.text()).toBe("body { color: teal }");
    await expect(run(process.execPath, [script, file, "--url", target.url], { env: { ...process.env, RON_TOKEN: "" } })).rejects.toThrow(/401/);
    // nothing listening: one clear line naming the URL, no stack
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const refused = await run(process.execPath, [script, file, "--url", `http://127.0.0.1:${closed}`], { env: { ...process.env, RON_TOKEN: HARNESS_TOKEN } }).catch((error) => error);
    expect(refused.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${closed}/edge/assets/\\S+: ECONNREFUSED`))]);
  } finally {
    await target.mf.dispose();
  }
});
