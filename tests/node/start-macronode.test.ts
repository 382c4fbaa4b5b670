import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startUntilReady, stopGroup } from "./processes";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
let service: ChildProcess | undefined;
let port = 0;
let log = "";

/** `npm run start:macronode` as a user runs it, with a knob set in the environment as for `npm start`. */
beforeAll(async () => {
  port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), MAX_BODY_BYTES: "1000" };
  delete env.CAP_ROOT_KEY;
  const started = await startUntilReady(["run", "start:macronode"], { cwd: root, env, port, timeoutMs: 90_000 });
  service = started.child;
  log = started.log();
}, 120_000);

afterAll(async () => stopGroup(service), 20_000);

describe("npm run start:macronode", () => {
  it("serves the gateway on PORT with every service behind it, npm start's dev token and knobs", async () => {
    expect(log).toContain("macronode (gateway + interop, overlay, edge) ready");
    const url = `http://127.0.0.1:${port}`;
    const token = readFileSync(join(root, ".ron/dev-token"), "utf8").trim();
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ ready: true });
    // the services keep objects in local R2 (.wrangler/state) between runs: a body of this run's own
    const body = `through the gateway ${crypto.randomUUID()}`;
    const put = await fetch(`${url}/put`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" } });
    expect(put.status).toBe(201);
    const { address } = (await put.json()) as { address: string };
    // stored by interop, served by edge from the same store
    expect(await (await fetch(`${url}/cas/blake3/${address.slice(3)}`)).text()).toBe(body);
    // MAX_BODY_BYTES from the environment reached the interop worker behind the gateway
    const big = await fetch(`${url}/put`, { method: "POST", body: "x".repeat(2000), headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" } });
    expect(big.status).toBe(413);
  });

  it("leaves no copy of its knobs and secrets beside the service configs once stopped", async () => {
    const files = ["interop", "overlay", "edge"].map((s) => join(root, "workers", s, ".dev.vars"));
    expect(files.every(existsSync)).toBe(true); // while running: the services read their knobs there
    await stopGroup(service);
    // npm exits first; the start script removes them as it exits, right after
    for (let waited = 0; waited < 5_000 && files.some(existsSync); waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(files.filter(existsSync)).toEqual([]);
  }, 30_000);
});
