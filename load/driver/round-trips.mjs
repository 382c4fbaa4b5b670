// How many client round trips each request kind of a scenario costs, through the latency proxy
// (load/driver/latency-proxy.mjs), on one warm keep-alive connection or session: the request is sent
// once to warm its connection (and caches), then again, timed. `round_trips` is what the client
// waited: the second exchange's time in RTTs, rounded (bytes a client sends without waiting, like
// a request pipelined behind CONFIRM, cost nothing); `exchanges` is what the proxy saw: bursts from
// the client that followed bytes from the service. A warm GET should cost one round trip; a hybrid
// handshake one with HELLO in the upgrade's header (the SDK's Node default: the upgrade answers with
// READY; CONFIRM travels with the first request), two with HELLO as a frame (OVERLAY_HELLO_FRAME=1).
import http from "node:http";

const TRIES_TO_SEE_EVERY_ROUTE = 2000;

/** Label of a request: its route, plus "(range)" for ranged GETs, which the mixes list apart. */
const labelOf = (request) => `${request.route}${request.headers?.range ? " (range)" : ""}`;

/** One request of each kind `next()` produces (drawn until every kind has appeared). */
function oneOfEach(next) {
  const found = new Map();
  for (let i = 0; i < TRIES_TO_SEE_EVERY_ROUTE; i++) {
    const request = next();
    if (!found.has(labelOf(request))) found.set(labelOf(request), request);
  }
  return found;
}

function sendOn(agent, proxyUrl, request) {
  const url = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: request.method, path: request.path, agent, headers: { ...request.headers, ...(request.body ? { "content-length": request.body.length } : {}) } },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(request.body);
  });
}

/** The exchanges since the reset, on the busiest connection. */
const exchangesSince = (proxy) => Math.max(0, ...proxy.connections().map((c) => c.roundTrips));

/** Time `run` through the proxy: `{ round_trips, exchanges, ms }`. */
async function measure(proxy, run) {
  proxy.reset();
  const began = performance.now();
  const result = await run();
  const ms = performance.now() - began;
  const exchanges = exchangesSince(proxy);
  return { round_trips: proxy.rttMs > 0 ? Math.round(ms / proxy.rttMs) : exchanges, exchanges, ms: Math.round(ms * 10) / 10, result };
}

/** HTTP request kinds: `{ label: { round_trips, status } }`. */
export async function probeHttpRoundTrips(proxy, next) {
  const out = {};
  for (const [label, request] of oneOfEach(next)) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await sendOn(agent, proxy.url, request); // opens the connection, warms caches
      const second = request.method === "GET" ? request : sameKind(next, label);
      const { result: status, ...trips } = await measure(proxy, () => sendOn(agent, proxy.url, second));
      out[label] = { ...trips, status };
    } finally {
      agent.destroy();
    }
  }
  return out;
}

/** A fresh request of the same kind (writes: a new webhook delivery id, so it is not a replay). */
function sameKind(next, label) {
  for (let i = 0; i < TRIES_TO_SEE_EVERY_ROUTE; i++) {
    const request = next();
    if (labelOf(request) === label) return request;
  }
  throw new Error(`no second request of kind ${label}`);
}

/**
 * Overlay kinds: handshakes count the exchanges until the session is established (a fresh
 * connection, closed afterwards); fetches and publishes run on already open sessions.
 */
export async function probeOverlayRoundTrips(proxy, overlay) {
  const out = {};
  const kinds = oneOfEach(overlay.next);
  for (const [label, op] of kinds) {
    if (op.handshake) {
      await overlay.connect(op.handshake).then((s) => s.close()); // warm the upgrade path
      const { result: session, ...trips } = await measure(proxy, () => overlay.connect(op.handshake));
      out[label] = trips;
      session.close();
    } else {
      await op.run();
      const { result: _, ...trips } = await measure(proxy, () => op.run());
      out[label] = trips;
    }
  }
  return out;
}
