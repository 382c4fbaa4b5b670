import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { blake3 } from "../shared/blake3";
import { AmnesiaMultipartStore } from "../shared/store/multipart/amnesia-multipart-store";
import { combineParts } from "../shared/store/multipart/combine";
import type { MultipartStore, UploadRecord } from "../shared/store/multipart/multipart-store";
import { PartUpload } from "../shared/store/multipart/part-upload";
import { partLayout, partLength } from "../shared/store/multipart/plan";
import { R2MultipartStore } from "../shared/store/multipart/r2-multipart-store";
import { R2ObjectStore } from "../shared/store/r2-object-store";
import { AmnesiaObjectStore } from "../shared/store/amnesia-object-store";
import type { ObjectStore } from "../shared/store/object-store";
import { outboardBytes, treeShape } from "../shared/store/outboard";
import { randomBytes } from "./helpers";

/** The multipart seam's contract, every strategy (shared/store/multipart/multipart-store.ts). */
const BUDGET = 64 * 1024 * 1024;
const strategies: [string, () => MultipartStore, () => ObjectStore][] = [
  ["r2", () => new R2MultipartStore(env.OBJECTS), () => new R2ObjectStore(env.OBJECTS)],
  ["amnesia", () => new AmnesiaMultipartStore(env.AMNESIA_STORE, { maxBytes: BUDGET, shards: 1 }), () => new AmnesiaObjectStore(env.AMNESIA_STORE, { maxBytes: BUDGET, shards: 1 })],
];
const GROUP = 16 * 1024;
const limits = () => ({ maxOpen: 1000, ttlMs: 60_000, now: Date.now() });

async function openFor(store: MultipartStore, bytes: Uint8Array): Promise<{ upload: UploadRecord; hex: string }> {
  const hex = blake3().hashHex(bytes);
  const layout = partLayout(bytes.length, 0, GROUP);
  const outcome = await store.create({ hex, contentType: "application/octet-stream", ...layout }, outboardBytes(treeShape(bytes.length, GROUP)), limits());
  if (outcome.status !== "created") throw new Error(`not created: ${outcome.status}`);
  return { upload: outcome.upload, hex };
}

const part = (upload: UploadRecord, n: number, bytes: Uint8Array) => new PartUpload(new Blob([bytes]).stream(), { layout: upload, n, groupBytes: GROUP, chunkBytes: 64 * 1024 }, new AbortController().signal);

describe.each(strategies)("MultipartStore conformance: %s", (_name, create, objects) => {
  it("refuses to complete from CVs read before a part was replaced (changed), and completes from fresh ones", async () => {
    const store = create();
    const bytes = randomBytes(40_000);
    const { upload, hex } = await openFor(store, bytes);
    const wrong = bytes.slice();
    wrong[7]! ^= 1;
    expect(await store.putPart(upload, part(upload, 1, wrong))).toEqual({ status: "stored" });
    const stale = await store.parts(upload);
    expect(await store.putPart(upload, part(upload, 1, bytes))).toEqual({ status: "stored" });
    const fresh = await store.parts(upload);
    const combined = combineParts(blake3(), upload, GROUP, fresh.parts, hex, (n) => partLength(upload, n));
    if (combined.status !== "match") throw new Error(`parts do not match: ${combined.status}`);
    // the stale read held the wrong bytes' CVs: completing from it must not make the object of the new bytes
    expect(await store.complete(upload, stale.version, combined.outboard)).toEqual({ status: "changed" });
    expect(await objects().head(hex)).toBeNull();
    expect(await store.complete(upload, fresh.version, combined.outboard)).toEqual({ status: "created" });
    expect((await objects().get(hex))?.bytes).toEqual(bytes);
    expect(await store.get(upload.id, Date.now())).toBeNull();
  });

  it("a part whose body fails is not kept, and the upload stays open for a retry", async () => {
    const store = create();
    const bytes = randomBytes(20_000);
    const { upload } = await openFor(store, bytes);
    const short = new PartUpload(new Blob([bytes.subarray(0, 10_000)]).stream(), { layout: upload, n: 1, groupBytes: GROUP, chunkBytes: 64 * 1024 }, new AbortController().signal);
    await expect(store.putPart(upload, short)).rejects.toMatchObject({ failure: "short_body" });
    expect((await store.parts(upload)).parts).toEqual([]);
    expect(await store.putPart(upload, part(upload, 1, bytes))).toEqual({ status: "stored" });
    expect((await store.parts(upload)).parts.map((p) => [p.n, p.size])).toEqual([[1, 20_000]]);
    expect(await store.abort(upload.id)).toBe(true);
    expect(await store.abort(upload.id)).toBe(false);
  });

  it("counts open uploads and sweeps expired ones, counting them once", async () => {
    const store = create();
    const before = await store.open(Date.now());
    const bytes = randomBytes(100);
    const layout = partLayout(bytes.length, 0, GROUP);
    const now = Date.now();
    const outcome = await store.create({ hex: blake3().hashHex(bytes), contentType: "text/plain", ...layout }, 16, { maxOpen: 1000, ttlMs: 1_000, now });
    expect(outcome.status).toBe("created");
    expect((await store.open(now)).open).toBe(before.open + 1);
    const later = await store.open(now + 2_000);
    expect(later).toEqual({ open: before.open, expired: 1 });
    expect((await store.open(now + 2_000)).expired).toBe(0);
  });
});
