import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("stores and serves an object", async () => {
  const put = await SELF.fetch("http://node/put", { method: "POST", body: "hello", headers: { "content-type": "application/octet-stream" } });
  const body = await put.json<any>();
  expect(put.status).toBe(201);
  const get = await SELF.fetch(`http://node/o/${body.address}`);
  expect(get.status).toBe(200);
  expect(await get.text()).toBe("hello");
});
