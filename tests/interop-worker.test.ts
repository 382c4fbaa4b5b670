import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import interop from "../workers/interop/index";
import { addressOf, bytesOf, callWorker, randomBytes, withoutIsolate } from "./helpers";

/** The standalone interop worker (macronode shape), with its wrangler.toml's AMNESIA=false. */
const callInterop = (path: string, init: RequestInit = {}) => callWorker(interop, path, init, { AMNESIA: "false" });

it("serves the same object API from R2, with its own service label and features", async () => {
  const bytes = randomBytes(2222);
  const put = await callInterop("/put", { method: "POST", body: bytes });
  expect(put.status).toBe(201);
  expect(await env.OBJECTS.head(`b3/${addressOf(bytes).slice(3)}`)).not.toBeNull();
  expect(await bytesOf(await callInterop(`/o/${addressOf(bytes)}`))).toEqual(bytes);
  expect((await (await callInterop("/version")).json<any>()).features).toEqual(["interop", "r2"]);
  expect(withoutIsolate(await (await callInterop("/metrics")).text())).toMatch(/^http_requests_total\{service="interop",route="\/put",method="POST",status="201"\} 1$/m);
});
