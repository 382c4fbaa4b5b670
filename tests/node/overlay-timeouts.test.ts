/**
 * Overlay timeouts over real sockets (Miniflare on loopback, the `ws` client): the close a client
 * sees is the end of the connection, so this is where a close that is sent on time but whose
 * connection lingers shows (inside workerd's test pool there is no connection to linger).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JS module of the load harness
import { bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

let target: { url: string; mf: { dispose(): Promise<void> } };
beforeAll(async () => {
  const bundle = bundleWorker({ outDir: join(tmpdir(), `ron-timeouts-build-${process.pid}`) });
  target = await serve(micronodeOptions(bundle, { OVERLAY_HANDSHAKE_TIMEOUT_MS: "1000" }));
});
afterAll(async () => target?.mf.dispose());

/** Open a socket that never sends a byte; resolve with its close and when it came. */
function silentSocket(): Promise<{ code: number; reason: string; afterMs: number }> {
  const opened = Date.now();
  const socket = new WebSocket(`${target.url.replace(/^http/, "ws")}/overlay`, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString(), afterMs: Date.now() - opened }));
  });
}

describe("the handshake timeout over a real connection", () => {
  it("closes a silent socket 4408 at OVERLAY_HANDSHAKE_TIMEOUT_MS (1 s ± 0.5 s), not when the object is evicted", async () => {
    for (let i = 0; i < 2; i++) {
      const closed = await silentSocket();
      expect(closed).toMatchObject({ code: 4408, reason: "handshake_timeout" });
      expect(closed.afterMs).toBeGreaterThanOrEqual(500);
      expect(closed.afterMs).toBeLessThanOrEqual(1_500);
    }
  });
});
