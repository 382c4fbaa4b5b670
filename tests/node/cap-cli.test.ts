/**
 * `npm run -s cap -- mint | attenuate | inspect` against a running micronode (bundled, served by
 * Miniflare on 127.0.0.1 under the harness root key): each command prints one line, and the tokens
 * it prints are what the worker accepts or refuses.
 */
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { HARNESS_ROOT_KEY, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const run = promisify(execFile);
const cli = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/cap.mjs");

/** Run the CLI; stdout lines, stderr and the exit code. */
async function cap(args: string[], env: Record<string, string> = { CAP_ROOT_KEY: HARNESS_ROOT_KEY }) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    return { lines: stdout.trim().split("\n"), stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { lines: failed.stdout.trim() ? failed.stdout.trim().split("\n") : [], stderr: failed.stderr, code: failed.code };
  }
}

let target: { url: string; mf: { dispose(): Promise<void> } };
beforeAll(async () => {
  target = await serve(micronodeOptions(bundleWorker({ outDir: join(tmpdir(), `ron-cap-build-${process.pid}`) })));
});
afterAll(async () => target?.mf.dispose());

const put = (token: string, body = "cap cli bytes") =>
  fetch(`${target.url}/put`, { method: "POST", body, headers: { "content-type": "application/octet-stream", authorization: `Bearer ${token}` } });
const publish = (token: string, path: string) => fetch(`${target.url}/edge/assets/${path}`, { method: "PUT", body: "asset", headers: { authorization: `Bearer ${token}` } });

describe("npm run cap", () => {
  it("mint prints one token the worker accepts; without --op it allows every op", async () => {
    const minted = await cap(["mint"]);
    expect(minted.code).toBe(0);
    expect(minted.lines).toHaveLength(1);
    expect(minted.lines[0]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await put(minted.lines[0]!)).status).toBe(201);
    expect((await fetch(`${target.url}/audit/verify`, { headers: { authorization: `Bearer ${minted.lines[0]}` } })).status).toBe(200);
  });

  it("mint --op … --prefix … --ttl narrows; attenuate narrows further without the key; inspect shows the caveats", async () => {
    const [docs] = (await cap(["mint", "--op", "edge.put", "--op", "put", "--prefix", "docs/", "--ttl", "600"])).lines;
    expect((await publish(docs!, "docs/a.txt")).status).toBe(201);
    expect((await publish(docs!, "site/a.txt")).status).toBe(403);
    const attenuated = await cap(["attenuate", docs!, "--op", "edge.put", "--prefix", "docs/img/"], {});
    expect(attenuated.lines).toHaveLength(1);
    expect((await publish(attenuated.lines[0]!, "docs/img/a.png")).status).toBe(201);
    expect((await publish(attenuated.lines[0]!, "docs/a.txt")).status).toBe(403);
    expect((await put(attenuated.lines[0]!)).status).toBe(403);

    const inspected = await cap(["inspect", attenuated.lines[0]!], {});
    expect(inspected.lines).toHaveLength(1);
    const json = JSON.parse(inspected.lines[0]!);
    expect(json.caveats).toEqual(["op = edge.put,put", "prefix = docs/", expect.stringMatching(/^expires = \d+$/), "op = edge.put", "prefix = docs/img/"]);
    expect(json.allows).toMatchObject({ ops: ["edge.put"], prefixes: ["docs/", "docs/img/"], topics: [], max_bytes: null });
    expect(json.allows.expires).toBeGreaterThan(Date.now() / 1000 + 500);
  });

  it("--topic and --max-bytes caveats reach the worker", async () => {
    const [token] = (await cap(["mint", "--op", "mailbox.send", "--topic", "jobs.*", "--max-bytes", "200"])).lines;
    const send = (topic: string, payload: string) =>
      fetch(`${target.url}/mailbox/send`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ topic, idem_key: crypto.randomUUID(), payload_b64: Buffer.from(payload).toString("base64") }) });
    expect((await send("jobs.a", "x")).status).toBe(200);
    expect((await send("other", "x")).status).toBe(403);
    expect((await send("jobs.a", "x".repeat(300))).status).toBe(403);
  });

  it("says what is wrong: unknown op or command (exit 2), no or bad root key, a malformed token (exit 1)", async () => {
    const unknownOp = await cap(["mint", "--op", "bogus"]);
    expect(unknownOp).toMatchObject({ code: 2, lines: [] });
    expect(unknownOp.stderr).toMatch(/unknown op "bogus"; ops: put, edge\.put/);
    expect((await cap(["frobnicate"])).code).toBe(2);
    expect((await cap(["mint", "--ttl", "soon"])).stderr).toMatch(/--ttl must be a whole number/);
    const shortKey = await cap(["mint"], { CAP_ROOT_KEY: "abcd" });
    expect(shortKey.code).toBe(1);
    expect(shortKey.stderr).toMatch(/at least 32 bytes/);
    const garbage = await cap(["inspect", "not-a-token"], {});
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/not a v2 macaroon|not an unpadded base64url macaroon/);
  });
});
