/**
 * The macronode inside workerd: the gateway (SELF) forwards over service bindings to the interop,
 * overlay and edge workers (auxiliary workers, bundled from source), which share the interop
 * worker's Durable Objects (bound by script_name) and one R2 bucket.
 */
import { env, SELF } from "cloudflare:test";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { connectOverlay } from "../../sdk";
import type { WebSocketLike } from "../../sdk/socket";
import { decodeRootKey, mintToken, rootKeyOf } from "../../shared/capability";
import { SERVICE_PREFIXES, serviceFor, type ServiceName } from "../../shared/macronode/services";
import edge from "../../workers/edge/index";
import interop from "../../workers/interop/index";
import overlay from "../../workers/overlay/index";

const ROOT_KEY = rootKeyOf(decodeRootKey((env as unknown as { CAP_ROOT_KEY: string }).CAP_ROOT_KEY) as Uint8Array);
const TOKEN = mintToken(ROOT_KEY);
const auth = { authorization: `Bearer ${TOKEN}` };
const gateway = (path: string, init: RequestInit = {}) => SELF.fetch(new Request(new URL(path, "http://gateway"), init));
const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const addressOf = (bytes: Uint8Array) => `b3:${bytesToHex(nobleBlake3(bytes))}`;

async function overlaySession() {
  const upgrade = await gateway("/overlay", { headers: { Upgrade: "websocket" } });
  expect(upgrade.status).toBe(101);
  upgrade.webSocket!.accept();
  return connectOverlay({ socket: upgrade.webSocket as unknown as WebSocketLike, token: TOKEN });
}

describe("macronode: gateway + interop, overlay and edge over service bindings", () => {
  it("an object PUT through the gateway is readable through the interop, edge and overlay paths", async () => {
    const bytes = randomBytes(5_000);
    const put = await gateway("/put", { method: "POST", body: bytes, headers: { ...auth, "content-type": "application/octet-stream" } });
    expect(put.status).toBe(201);
    const { address } = await put.json<{ address: string }>();
    expect(address).toBe(addressOf(bytes));
    // interop
    const viaInterop = await gateway(`/o/${address}`);
    expect(viaInterop.status).toBe(200);
    expect(new Uint8Array(await viaInterop.arrayBuffer())).toEqual(bytes);
    // edge (its content-addressed route)
    const viaEdge = await gateway(`/cas/blake3/${address.slice(3)}`);
    expect(viaEdge.status).toBe(200);
    expect(new Uint8Array(await viaEdge.arrayBuffer())).toEqual(bytes);
    // overlay (a session through the gateway, the object from the shared store)
    const session = await overlaySession();
    expect(await session.fetch(address)).toEqual(bytes);
    session.close();
  });

  it("an asset published to the edge worker is fetchable by address through the overlay worker", async () => {
    const bytes = new TextEncoder().encode(`asset ${crypto.randomUUID()}`);
    const published = await gateway("/edge/assets/site/hello.txt", { method: "PUT", body: bytes, headers: auth });
    expect(published.status).toBe(201);
    const { address } = await published.json<{ address: string }>();
    expect(await (await gateway("/edge/assets/site/hello.txt")).text()).toBe(new TextDecoder().decode(bytes));
    const session = await overlaySession();
    expect(await session.fetch(address)).toEqual(bytes);
    session.close();
  });

  it("keeps the request's correlation id across the hop, answers 404 for paths no service owns, and /readyz asks every service over RPC", async () => {
    const response = await gateway(`/o/b3:${"0".repeat(64)}`, { headers: { "x-corr-id": "macronode-test-1" } });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-corr-id")).toBe("macronode-test-1");
    expect(await response.json()).toMatchObject({ corr_id: "macronode-test-1" });
    const unknown = await gateway("/nowhere");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "NOT_FOUND" });
    const ready = await gateway("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    expect((await (await gateway("/version")).json<{ features: string[] }>()).features).toEqual(["gateway", "interop", "overlay", "edge"]);
    // the API document of the whole macronode (every facet's routes, as micronode serves them)
    const document = await (await gateway("/openapi.json")).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/put", "/overlay", "/edge/assets/{path}"]));
  });

  it("writes still need a capability at the service behind the gateway", async () => {
    const refused = await gateway("/put", { method: "POST", body: randomBytes(10), headers: { "content-type": "application/octet-stream" } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ reason: "missing_token" });
  });

  it("reaches every route of every service: each facet route's path belongs to its own service", () => {
    const services: Record<ServiceName, { routes: readonly { method: string; template: string }[] }> = { interop, overlay, edge };
    // the ops routes and the API document are each worker's own; the gateway answers its own
    const own = new Set(["/healthz", "/readyz", "/version", "/metrics", "/openapi.json", "/docs"]);
    for (const [service, worker] of Object.entries(services)) {
      const facetRoutes = worker.routes.filter((r) => !own.has(r.template));
      expect(facetRoutes.length, service).toBeGreaterThan(0);
      for (const route of facetRoutes) expect(serviceFor(route.template.replace(/:[a-z_]+/g, "x").replace("*", "x")), `${route.method} ${route.template}`).toBe(service);
    }
  });

  it("routes each path prefix to one service, and only whole segments", () => {
    expect(serviceFor("/put")).toBe("interop");
    expect(serviceFor("/putx")).toBeNull();
    expect(serviceFor("/overlay")).toBe("overlay");
    expect(serviceFor("/edge/tiles/a/0/0/0.mvt")).toBe("edge");
    expect(serviceFor("/edge")).toBe("edge");
    expect(serviceFor("/healthz")).toBeNull();
    const all = Object.values(SERVICE_PREFIXES).flat();
    expect(new Set(all).size).toBe(all.length);
  });
});
