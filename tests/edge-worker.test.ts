import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import edge from "../workers/edge/index";
import { callWorker, withoutIsolate } from "./helpers";

/** The standalone edge worker (macronode shape), with its wrangler.toml's AMNESIA=false. */
const callEdge = (path: string, init: RequestInit = {}) => callWorker(edge, path, init, { AMNESIA: "false" });

it("serves assets from R2 under its own service label, without the interop routes", async () => {
  expect((await callEdge("/edge/assets/standalone/a.txt", { method: "PUT", body: "standalone" })).status).toBe(201);
  expect(await (await callEdge("/edge/assets/standalone/a.txt")).text()).toBe("standalone");
  expect(await env.OBJECTS.get("edge/index/standalone/a.txt")).not.toBeNull();
  expect((await callEdge("/put", { method: "POST", body: "x" })).status).toBe(404);
  expect((await (await callEdge("/version")).json<any>()).features).toEqual(["edge"]);
  expect(withoutIsolate(await (await callEdge("/metrics")).text())).toMatch(/^http_requests_total\{service="edge",route="\/edge\/assets\/\*",method="PUT",status="201"\} 1$/m);
});
