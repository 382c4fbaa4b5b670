import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { blake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { InteropClient, InteropError } from "../../sdk";
// @ts-expect-error: plain JS module of the load harness
import { HARNESS_TOKEN, bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

const run = promisify(execFile);
const MIB = 1024 * 1024;
const script = join(__dirname, "../../scripts/publish.mjs");
const addressOf = (bytes: Uint8Array) => `b3:${bytesToHex(blake3(bytes))}`;

let target: { url: string; mf: { dispose(): Promise<void> } };
beforeAll(async () => {
  target = await serve(micronodeOptions(bundleWorker({ outDir: join(tmpdir(), `ron-publish-mp-build-${process.pid}`) })));
});
afterAll(async () => {
  await target?.mf.dispose();
});

it("npm run publish sends a file larger than one body as a multipart upload (2 parts of the server's 8 MiB), then points the path at it", async () => {
  const bytes = new Uint8Array(randomBytes(8 * MIB + 123 * 1024));
  const file = join(tmpdir(), `ron-publish-mp-${process.pid}.bin`);
  writeFileSync(file, bytes);
  const { stdout } = await run(process.execPath, [script, file, "--as", "big/archive.pmtiles", "--url", target.url], { env: { ...process.env, RON_TOKEN: HARNESS_TOKEN }, maxBuffer: 1 << 20 });
  const address = addressOf(bytes);
  expect(JSON.parse(stdout)).toMatchObject({ path: "big/archive.pmtiles", address, size: bytes.length, parts: 2, created: true });
  const served = await fetch(`${target.url}/edge/assets/big/archive.pmtiles`);
  expect(served.status).toBe(200);
  expect(addressOf(new Uint8Array(await served.arrayBuffer()))).toBe(address);
  const from = 8 * MIB - 10;
  const range = await fetch(`${target.url}/o/${address}`, { headers: { Range: `bytes=${from}-${from + 19}` } });
  expect(range.status).toBe(206);
  expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.subarray(from, from + 20));
  // below the threshold the single PUT is used, as before: no `parts` in the answer
  const small = join(tmpdir(), `ron-publish-mp-small-${process.pid}.txt`);
  writeFileSync(small, "small file");
  const single = JSON.parse((await run(process.execPath, [script, small, "--as", "small.txt", "--url", target.url], { env: { ...process.env, RON_TOKEN: HARNESS_TOKEN } })).stdout);
  expect(single).toMatchObject({ path: "small.txt", size: 10 });
  expect(single.parts).toBeUndefined();
  // and the threshold is a flag: the same file as a one-part upload
  const forced = JSON.parse((await run(process.execPath, [script, small, "--as", "forced.txt", "--url", target.url, "--multipart-from", "5"], { env: { ...process.env, RON_TOKEN: HARNESS_TOKEN } })).stdout);
  expect(forced).toMatchObject({ path: "forced.txt", size: 10, parts: 1 });
  // without a token: one clear line, exit 1
  const refused = await run(process.execPath, [script, file, "--url", target.url], { env: { ...process.env, RON_TOKEN: "" } }).catch((error) => error);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/publish failed: 401 UNAUTHORIZED/);
});

it("the SDK's uploadMultipart reports each part, and a wrong address fails with 422 and leaves nothing", async () => {
  const client = new InteropClient(target.url, { token: HARNESS_TOKEN });
  const bytes = new Uint8Array(randomBytes(50_000));
  const seen: string[] = [];
  const stored = await client.uploadMultipart(bytes, { onOpen: (parts, partBytes) => seen.push(`open ${parts}×${partBytes}`), onPart: (done, total, sent) => seen.push(`${done}/${total} ${sent}`) });
  expect(stored).toEqual({ address: addressOf(bytes), size: 50_000, created: true, parts: 1, partBytes: 8 * MIB });
  expect(seen).toEqual([`open 1×${8 * MIB}`, "1/1 50000"]);
  expect((await client.uploadMultipart(bytes)).created).toBe(false);
  const other = new Uint8Array(randomBytes(1000));
  const failure = await client.uploadMultipart(other, { address: addressOf(new Uint8Array(randomBytes(1000))) }).catch((error) => error);
  expect(failure).toBeInstanceOf(InteropError);
  expect(failure).toMatchObject({ status: 422, code: "ADDRESS_MISMATCH" });
  expect(await client.head(addressOf(other))).toBeNull();
});
