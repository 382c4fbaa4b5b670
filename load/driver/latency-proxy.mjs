// A loopback TCP proxy that puts a client-to-service network between the load generator and the
// target: every byte waits half the round-trip time (plus jitter) in each direction, in order, so
// a request that needs N exchanges with the service pays N round trips, as a far client would.
// It also counts round trips: a client→service burst that follows a service→client one (or opens
// the connection) starts a new exchange. Connection setup (TCP, TLS) is not delayed: keep-alive
// connections, which the load clients use, are what it models.
import net from "node:net";

/**
 * @param {object} o
 * @param {string} o.target   http://127.0.0.1:<port> of the service
 * @param {number} o.rttMs    round-trip time to add
 * @param {number} [o.jitterMs]  each one-way delay varies uniformly by up to ±jitter/2
 * @returns {Promise<{ url: string, close(): Promise<void>, connections(): ConnectionStats[], reset(): void }>}
 */
export async function startLatencyProxy({ target, rttMs, jitterMs = 0 }) {
  const upstream = new URL(target);
  if (!["127.0.0.1", "localhost"].includes(upstream.hostname)) throw new Error(`the latency proxy only forwards to loopback, not ${upstream.hostname}`);
  if (!(rttMs >= 0) || !(jitterMs >= 0)) throw new Error("--client-rtt and --jitter take milliseconds ≥ 0");
  const oneWay = () => Math.max(0, rttMs / 2 + (Math.random() - 0.5) * jitterMs);
  /** @type {Set<ConnectionStats>} */
  const live = new Set();
  /** @type {ConnectionStats[]} */
  const closed = [];
  const sockets = new Set();

  const server = net.createServer((client) => {
    const service = net.connect(Number(upstream.port), upstream.hostname);
    const stats = { id: live.size + closed.length + 1, roundTrips: 0, bytesUp: 0, bytesDown: 0, lastDirection: "down" };
    live.add(stats);
    sockets.add(client).add(service);
    client.setNoDelay(true);
    service.setNoDelay(true);
    const pipeDelayed = (from, to, direction) => {
      // one queue and one timer per direction: chunks leave in arrival order, each no earlier than
      // its own delay (separate timers per chunk could fire out of order)
      const queue = [];
      let releaseAt = 0;
      let timer = null;
      let ended = false;
      const flush = () => {
        timer = null;
        const now = performance.now();
        while (queue.length && queue[0].at <= now + 0.5) {
          const { chunk } = queue.shift();
          if (!to.destroyed) to.write(chunk);
        }
        if (queue.length) timer = setTimeout(flush, queue[0].at - now);
        else if (ended) to.end();
      };
      from.on("data", (chunk) => {
        if (direction === "up" && stats.lastDirection === "down") stats.roundTrips++;
        stats.lastDirection = direction;
        if (direction === "up") stats.bytesUp += chunk.length;
        else stats.bytesDown += chunk.length;
        releaseAt = Math.max(releaseAt, performance.now() + oneWay());
        queue.push({ at: releaseAt, chunk });
        if (!timer) timer = setTimeout(flush, releaseAt - performance.now());
      });
      from.on("end", () => {
        ended = true;
        if (!timer) flush();
      });
    };
    pipeDelayed(client, service, "up");
    pipeDelayed(service, client, "down");
    const finish = () => {
      if (!live.delete(stats)) return;
      closed.push(stats);
      client.destroy();
      service.destroy();
      sockets.delete(client);
      sockets.delete(service);
    };
    client.on("close", finish);
    service.on("close", finish);
    client.on("error", finish);
    service.on("error", finish);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    rttMs,
    /** Every connection seen since the last reset, open or closed. */
    connections: () => [...closed, ...live].map(({ lastDirection: _, ...rest }) => ({ ...rest })),
    /** Forget closed connections and zero the open ones' counters (a probe measures from here). */
    reset() {
      closed.length = 0;
      for (const stats of live) Object.assign(stats, { roundTrips: 0, bytesUp: 0, bytesDown: 0, lastDirection: "down" });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** @typedef {{ id: number, roundTrips: number, bytesUp: number, bytesDown: number }} ConnectionStats */
