import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InteropClient, SliceError, type Blake3Tree } from "../../sdk";
// @ts-expect-error: plain JS modules of the load harness
import { HARNESS_TOKEN, authHeaders, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

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
