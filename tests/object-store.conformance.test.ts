import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { blake3 } from "../shared/blake3";
import { AmnesiaObjectStore } from "../shared/store/amnesia-object-store";
import type { ObjectStore } from "../shared/store/object-store";
import { R2ObjectStore } from "../shared/store/r2-object-store";
import { outboardBytes, treeShape } from "../shared/store/outboard";
import { VerifiedUpload } from "../shared/store/verified-upload";
import { randomBytes } from "./helpers";

/** One case file, every strategy: the seam's contract (see shared/store/object-store.ts). */
const strategies: [string, () => ObjectStore][] = [
  ["r2", () => new R2ObjectStore(env.OBJECTS)],
  ["amnesia, 1 shard", () => new AmnesiaObjectStore(env.AMNESIA_STORE, { maxBytes: 64 * 1024 * 1024, shards: 1 })],
  ["amnesia, 16 shards", () => new AmnesiaObjectStore(env.AMNESIA_STORE, { maxBytes: 64 * 1024 * 1024, shards: 16 })],
];

const object = (size: number) => {
  const bytes = randomBytes(size);
  return { bytes, hex: blake3().hashHex(bytes) };
};

/** An upload of `bytes` claiming address `hex`, in 1 KiB groups and 4 KiB chunks. */
const upload = (bytes: Uint8Array, hex: string, contentType = "application/octet-stream") =>
  new VerifiedUpload(new Blob([bytes]).stream(), { hex, size: bytes.length, contentType, groupBytes: 1024, chunkBytes: 4096 }, new AbortController().signal);

const readAll = async (stream: ReadableStream<Uint8Array> | null) => (stream ? new Uint8Array(await new Response(stream).arrayBuffer()) : null);

describe.each(strategies)("ObjectStore conformance: %s", (_name, create) => {
  it("reports absent objects as null", async () => {
    const store = create();
    const { hex } = object(10);
    expect(await store.head(hex)).toBeNull();
    expect(await store.get(hex)).toBeNull();
  });

  it("creates once, then reports existing, and keeps the first content type", async () => {
    const store = create();
    const { bytes, hex } = object(1000);
    expect(await store.put(hex, bytes, "text/plain")).toEqual({ status: "created" });
    expect(await store.put(hex, bytes, "image/png")).toEqual({ status: "existing" });
    expect(await store.head(hex)).toEqual({ size: 1000, contentType: "text/plain" });
    const got = await store.get(hex);
    expect(got?.contentType).toBe("text/plain");
    expect(got?.size).toBe(1000);
    expect(got?.bytes).toEqual(bytes);
  });

  it("creates an object exactly once under concurrent puts", async () => {
    const store = create();
    const { bytes, hex } = object(5000);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.put(hex, bytes, "application/octet-stream")));
    expect(outcomes.filter((o) => o.status === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "existing")).toHaveLength(9);
  });

  it("stores empty objects", async () => {
    const store = create();
    const { bytes, hex } = object(0);
    expect((await store.put(hex, bytes, "application/octet-stream")).status).not.toBe("full");
    expect((await store.get(hex))?.size).toBe(0);
  });

  it("reports itself usable", async () => {
    expect((await create().health()).usable).toBe(true);
  });

  it("streams an upload in with its outboard, once, and reads ranges and outboard ranges back", async () => {
    const store = create();
    const { bytes, hex } = object(10_000);
    const first = upload(bytes, hex, "text/plain");
    expect(await store.putStream(hex, first)).toEqual({ status: "created" });
    expect(await store.head(hex)).toEqual({ size: 10_000, contentType: "text/plain" });
    expect(await readAll(await store.readStream(hex, 1000, 5000))).toEqual(bytes.subarray(1000, 6000));
    expect(await readAll(await store.readStream(hex, 0, 10_000))).toEqual(bytes);
    const outboard = first.outboard();
    expect(outboard.length).toBe(outboardBytes(treeShape(10_000, 1024)));
    expect(await store.getOutboard(hex, 0, outboard.length)).toEqual(outboard);
    expect(await store.getOutboard(hex, 16, 64)).toEqual(outboard.subarray(16, 80));
    expect(await store.putStream(hex, upload(bytes, hex))).toEqual({ status: "existing" });
  });

  it("keeps nothing, under any key, of an upload whose bytes miss the address", async () => {
    const store = create();
    const { bytes, hex } = object(9000);
    const wrong = bytes.slice();
    wrong[4321]! ^= 1;
    const failing = upload(wrong, hex);
    await expect(store.putStream(hex, failing)).rejects.toThrow();
    expect(failing.failure?.failure).toBe("address_mismatch");
    expect(await store.head(hex)).toBeNull();
    expect(await store.getOutboard(hex, 0, 16)).toBeNull();
    expect(await store.readStream(hex, 0, 10)).toBeNull();
    expect(await store.putStream(hex, upload(bytes, hex))).toEqual({ status: "created" });
  });

  it("takes an outboard for an object put whole, and has none before", async () => {
    const store = create();
    const { bytes, hex } = object(3000);
    await store.put(hex, bytes, "application/octet-stream");
    expect(await store.getOutboard(hex, 0, 16)).toBeNull();
    const built = upload(bytes, hex);
    await built.verifyOnly();
    expect(await store.putOutboard(hex, built.outboard())).toBe(true);
    expect(await store.getOutboard(hex, 0, built.outboardBytes)).toEqual(built.outboard());
    // the first outboard stays (a reader may have cached its top): a second is refused
    const other = built.outboard().slice();
    other[20]! ^= 1;
    expect(await store.putOutboard(hex, other)).toBe(false);
    expect(await store.getOutboard(hex, 0, built.outboardBytes)).toEqual(built.outboard());
  });

  it("peeks size and type, with the bytes only of objects up to the inline size", async () => {
    const store = create();
    const small = object(1000);
    const big = object(5000);
    const empty = object(0);
    for (const { bytes, hex } of [small, big, empty]) await store.put(hex, bytes, "text/plain");
    expect(await store.peek(small.hex, 4096)).toEqual({ size: 1000, contentType: "text/plain", bytes: small.bytes });
    expect(await store.peek(big.hex, 4096)).toEqual({ size: 5000, contentType: "text/plain", bytes: null });
    // (the one empty object may have been stored by another test, with its own type)
    expect(await store.peek(empty.hex, 4096)).toEqual({ size: 0, contentType: (await store.head(empty.hex))!.contentType, bytes: new Uint8Array(0) });
    expect(await store.peek(object(10).hex, 4096)).toBeNull();
  });

  it("reads absent objects as null streams", async () => {
    expect(await create().readStream(object(10).hex, 0, 5)).toBeNull();
  });
});

/** One shard: the whole budget in `amnesia-0`, as before sharding (per-shard budgets: tests/amnesia-shards.test.ts). */
const oneShard = (maxBytes: number) => new AmnesiaObjectStore(env.AMNESIA_STORE, { maxBytes, shards: 1 });

describe("AmnesiaObjectStore budget, one shard", () => {
  it("refuses an object that would pass the budget and writes nothing", async () => {
    const probe = oneShard(1);
    const { usedBytes = 0 } = await probe.health();
    const store = oneShard(usedBytes + 1000);
    const big = object(1001);
    expect(await store.put(big.hex, big.bytes, "application/octet-stream")).toEqual({ status: "full", usedBytes, budgetBytes: usedBytes + 1000, shard: "amnesia-0" });
    expect(await store.head(big.hex)).toBeNull();
    const fits = object(1000);
    expect((await store.put(fits.hex, fits.bytes, "application/octet-stream")).status).toBe("created");
    expect((await store.health()).usedBytes).toBe(usedBytes + 1000);
  });

  it("counts a streamed object's outboard, refuses one past the budget, and releases a failed upload's reservation", async () => {
    const probe = oneShard(1);
    const { usedBytes = 0 } = await probe.health();
    const { bytes, hex } = object(8192);
    const cost = 8192 + outboardBytes(treeShape(8192, 1024));
    const tight = oneShard(usedBytes + cost - 1);
    expect((await tight.putStream(hex, upload(bytes, hex))).status).toBe("full");
    const roomy = oneShard(usedBytes + 10 * cost);
    const wrong = object(8192);
    await expect(roomy.putStream(hex, upload(wrong.bytes, hex))).rejects.toThrow();
    expect((await roomy.health()).usedBytes).toBe(usedBytes);
    expect((await roomy.putStream(hex, upload(bytes, hex))).status).toBe("created");
    expect((await roomy.health()).usedBytes).toBe(usedBytes + cost);
  });
});
