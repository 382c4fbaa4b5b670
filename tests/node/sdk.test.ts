import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
// @ts-expect-error: plain JS modules of the load harness
import { HARNESS_TOKEN, authHeaders, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { startLatencyProxy } from "../../load/driver/latency-proxy.mjs";
import { connectOverlay, InteropClient, OverlayError, SliceError, type Blake3Tree, type ConnectOptions } from "../../sdk";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const run = promisify(execFile);

describe("the SDK outside workerd", () => {
  it("bundles for browsers: no Node built-ins anywhere in it", async () => {
    const result = await build({ entryPoints: [join(root, "sdk/index.ts")], bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent" });
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(code).toContain("connectOverlay");
  });

  describe("npm run overlay against a local micronode (real sockets, Node's ws client)", () => {
    let target: { url: string; mf: { dispose(): Promise<void> } };
    beforeAll(async () => {
      target = await serve(micronodeOptions(bundleWorker({ outDir: join(tmpdir(), `ron-sdk-build-${process.pid}`) })));
    });
    afterAll(async () => target?.mf.dispose());

    const overlay = async (...args: string[]) => {
      const { stdout } = await run(process.execPath, [join(root, "scripts/overlay.mjs"), ...args], { env: { ...process.env, RON_URL: target.url, RON_TOKEN: HARNESS_TOKEN } });
      return stdout.trim().split("\n").map((line) => JSON.parse(line));
    };

    it("opens hybrid and classical sessions, fetches a verified object, and relays a publish to a subscriber", async () => {
      const [hybrid] = await overlay("hello");
      expect(hybrid).toMatchObject({ version: 1, pq: "hybrid", limits: { max_frame: 1_048_576, chunk: 65_536 } });
      const [classical] = await overlay("hello", "--pq", "off");
      expect(classical.pq).toBe("off");

      const body = new TextEncoder().encode("fetched over a session from Node");
      const put = (await (await fetch(`${target.url}/put`, { method: "POST", body, headers: authHeaders({ "content-type": "application/octet-stream" }) })).json()) as { address: string };
      expect(await overlay("fetch", put.address)).toEqual([{ address: put.address, size: body.length, verified: true }]);

      const subscriber = overlay("sub", "cli.test", "--count", "1", "--seconds", "30");
      // the subscriber needs a moment (bundling, connecting, subscribing): publish until it is there
      let ack: { id: string; duplicate: boolean; subscribers: number } | undefined;
      for (let attempt = 0; attempt < 40 && !ack?.subscribers; attempt++) {
        await new Promise((r) => setTimeout(r, 500));
        [ack] = await overlay("pub", "cli.test", "hello from the CLI", "--id", `cli-${attempt}`);
      }
      expect(ack).toMatchObject({ duplicate: false, subscribers: 1 });
      expect(await subscriber).toEqual([{ subscribed: "cli.test" }, { topic: "cli.test", id: ack!.id, data: "hello from the CLI" }]);
    });

    it("in Node, HELLO rides in the upgrade header: one exchange fewer through a 200 ms proxy (CONFIRM follows READY at once), and a refused one is an OverlayError", async () => {
      const rttMs = 200;
      const proxy = await startLatencyProxy({ target: target.url, rttMs });
      const url = `${proxy.url.replace(/^http/, "ws")}/overlay`;
      const connect = (options: Partial<ConnectOptions> = {}) => connectOverlay({ url, WebSocket, socketOptions: { perMessageDeflate: false }, token: HARNESS_TOKEN, pq: "hybrid", ...options });
      try {
        /** The time until the session is usable, and the client bursts the proxy saw up to CONFIRM's answer. */
        const timed = async (options: Partial<ConnectOptions>) => {
          proxy.reset();
          const began = performance.now();
          const client = await connect(options);
          const ms = performance.now() - began;
          await client.confirmed; // the server took CONFIRM either way, so the proxy has seen it
          const exchanges = Math.max(...proxy.connections().map((c: { roundTrips: number }) => c.roundTrips));
          client.close();
          return { ms, exchanges };
        };
        await timed({}); // warm: the ML-KEM module, the isolate
        const fast = await timed({});
        const slow = await timed({ helloInUpgrade: false });
        // exact whatever the CPU load: upgrade + HELLO, then CONFIRM; vs upgrade, HELLO, CONFIRM
        expect(fast.exchanges).toBe(2);
        expect(slow.exchanges).toBe(3);
        // what the client waits for: one RTT (READY) vs two (101, then READY); only the lower bounds
        // are asserted, since CPU contention on a shared machine adds to either
        expect(fast.ms).toBeGreaterThanOrEqual(rttMs);
        expect(slow.ms).toBeGreaterThanOrEqual(2 * rttMs);

        const refused = await connect({ token: "garbage-token" }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(OverlayError);
        expect(refused).toMatchObject({ status: 401, reason: "bad_token" });
      } finally {
        await proxy.close();
      }
    });

    it("fetches a range and a whole object with their proof and checks them on Node (InteropClient.getVerified), plain TS or SIMD", async () => {
      const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251); // 7 groups of 16 KiB
      const client = new InteropClient(target.url, { token: HARNESS_TOKEN });
      const { address } = await client.put(bytes);
      // the SIMD engine as Node loads it (shared/blake3/node.ts is outside the workers' tsconfig: imported by path)
      const nodeBlake3 = "../../shared/blake3/node";
      const { blake3Tree } = (await import(/* @vite-ignore */ nodeBlake3)) as { blake3Tree(): Blake3Tree };
      for (const verifier of [client, new InteropClient(target.url, { tree: blake3Tree() })]) {
        expect((await verifier.getVerified(address))!.bytes).toEqual(bytes);
        expect((await verifier.getVerified(address, { start: 16_380, end: 40_000 }))!.bytes).toEqual(bytes.subarray(16_380, 40_000));
      }
      // a byte flipped on the way (a proxy, a cache) is caught here, not trusted
      const tampering = new InteropClient(target.url, {
        fetch: async (input, init) => {
          const body = new Uint8Array(await (await fetch(input, init)).arrayBuffer());
          body[body.length - 1]! ^= 1;
          return new Response(body);
        },
      });
      await expect(tampering.getVerified(address, { start: 0, end: 10 })).rejects.toBeInstanceOf(SliceError);
    });

    it("docs/SDK.md's gossip example (two sessions) runs on this Node with the command the page gives, and prints what its comments say", async () => {
      const example = readFileSync(join(root, "sdk/examples/gossip.ts"), "utf8");
      const doc = readFileSync(join(root, "docs/SDK.md"), "utf8");
      // the page shows the file as it is, and says how to run it
      expect(doc).toContain("```ts\n" + example + "```");
      expect(doc).toContain("npm run -s ts -- sdk/examples/gossip.ts");
      expect(example.match(/await open\(\)/g)).toHaveLength(2);
      const { stdout } = await run("npm", ["run", "-s", "ts", "--", "sdk/examples/gossip.ts"], { cwd: root, env: { ...process.env, RON_URL: target.url, RON_TOKEN: HARNESS_TOKEN } });
      const [published, delivered] = stdout.trim().split("\n").map((line) => JSON.parse(line));
      expect(published).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), duplicate: false, subscribers: 1 });
      expect(delivered).toEqual({ delivered: "hello from another session" });
    });
  });
});
