import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { blake3 } from "../shared/blake3";
import { AmnesiaObjectStore } from "../shared/store/amnesia-object-store";
import type { ObjectStore } from "../shared/store/object-store";
import { R2ObjectStore } from "../shared/store/r2-object-store";
import { randomBytes } from "./helpers";

/** One case file, every strategy: the seam's contract (see shared/store/object-store.ts). */
const strategies: [string, () => ObjectStore][] = [
  ["r2", () => new R2ObjectStore(env.OBJECTS)],
  ["amnesia", () => new AmnesiaObjectStore(env.AMNESIA_STORE, 64 * 1024 * 1024)],
];

const object = (size: number) => {
  const bytes = randomBytes(size);
  return { bytes, hex: blake3().hashHex(bytes) };
};

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
});

describe("AmnesiaObjectStore budget", () => {
  it("refuses an object that would pass the budget and writes nothing", async () => {
    const probe = new AmnesiaObjectStore(env.AMNESIA_STORE, 1);
    const { usedBytes = 0 } = await probe.health();
    const store = new AmnesiaObjectStore(env.AMNESIA_STORE, usedBytes + 1000);
    const big = object(1001);
    expect(await store.put(big.hex, big.bytes, "application/octet-stream")).toEqual({ status: "full", usedBytes, budgetBytes: usedBytes + 1000 });
    expect(await store.head(big.hex)).toBeNull();
    const fits = object(1000);
    expect((await store.put(fits.hex, fits.bytes, "application/octet-stream")).status).toBe("created");
    expect((await store.health()).usedBytes).toBe(usedBytes + 1000);
  });
});
