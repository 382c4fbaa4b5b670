import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { authHeaders, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

/** The bundled micronode, served by Miniflare the way the load harness serves it. */
let bundle: string;
const state = mkdtempSync(join(tmpdir(), "ron-restart-"));
beforeAll(() => {
  bundle = bundleWorker({ outDir: join(tmpdir(), `ron-restart-build-${process.pid}`) });
});
afterAll(() => rmSync(state, { recursive: true, force: true }));

const start = () => serve(micronodeOptions(bundle, { AMNESIA: "false" }), { persistDir: state });

describe("persistent mode across a restart of the local runtime", () => {
  it("keeps acknowledged mailbox sends and stored objects", async () => {
    const first = await start();
    const sent = await fetch(`${first.url}/mailbox/send`, {
      method: "POST",
      headers: authHeaders({ "content-type": "application/json" }),
      body: JSON.stringify({ topic: "restart", idem_key: "r1", payload_b64: Buffer.from("kept").toString("base64") }),
    });
    expect(sent.status).toBe(200);
    const { msg_id } = (await sent.json()) as any;
    const put = (await (await fetch(`${first.url}/put`, { method: "POST", body: "an object that outlives the process", headers: authHeaders({ "content-type": "application/octet-stream" }) })).json()) as any;
    await first.mf.dispose(); // the runtime is gone; only the state directory remains

    const second = await start();
    try {
      const recv = await fetch(`${second.url}/mailbox/recv`, { method: "POST", headers: authHeaders({ "content-type": "application/json" }), body: JSON.stringify({ topic: "restart" }) });
      const { messages } = (await recv.json()) as any;
      expect(messages.map((m: any) => m.msg_id)).toEqual([msg_id]);
      expect(Buffer.from(messages[0].payload_b64, "base64").toString()).toBe("kept");
      const object = await fetch(`${second.url}/o/${put.address}`);
      expect(await object.text()).toBe("an object that outlives the process");
      expect(((await (await fetch(`${second.url}/audit/verify`, { headers: authHeaders() })).json()) as any).ok).toBe(true);
    } finally {
      await second.mf.dispose();
    }
  });
});

