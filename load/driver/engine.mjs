// The two load models. `openLoop` sends at a fixed arrival rate whatever the server does (open
// model): latency is measured from each request's scheduled time, so a stalled server or a busy
// generator shows up in the figures (no coordinated omission). `closedLoop` keeps N requests in
// flight as fast as they complete, for the maximum throughput. Both stop by themselves.
import http from "node:http";

const REQUEST_TIMEOUT_MS = 10_000;

export function createClient(baseUrl, maxSockets = 512) {
  const url = new URL(baseUrl);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new Error(`load only targets loopback, not ${url.hostname}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  let opened = 0; // connections this client opened (the soak's drills report it)
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (...args) => (opened++, connect(...args));
  const send = (request) =>
    new Promise((resolve) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method: request.method, path: request.path, headers: { ...request.headers, ...(request.body ? { "content-length": request.body.length } : {}) }, agent, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => resolve({ status: res.statusCode }));
          res.on("error", (e) => resolve({ error: e.code ?? "response_error" }));
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
      req.on("error", (e) => resolve({ error: e.code ?? "request_error" }));
      if (request.body) req.end(request.body);
      else req.end();
    });
  return { send, close: () => agent.destroy(), opened: () => opened };
}

/** Fixed-rate arrivals for `durationS` seconds; returns when every sent request has answered. */
export async function openLoop({ client, next, rate, durationS, record, maxOutstanding = 4096 }) {
  const start = performance.now();
  const interval = 1000 / rate;
  const total = Math.floor(rate * durationS);
  let sent = 0;
  let outstanding = 0;
  let overflow = 0;
  const pending = new Set();

  const fire = (scheduled) => {
    const request = next();
    const second = Math.floor((scheduled - start) / 1000);
    if (outstanding >= maxOutstanding) {
      overflow++;
      record(request.route, { error: "generator_overflow" }, performance.now() - scheduled, second);
      return;
    }
    outstanding++;
    const done = client.send(request).then((result) => {
      outstanding--;
      record(request.route, result, performance.now() - scheduled, second);
    });
    pending.add(done);
    done.finally(() => pending.delete(done));
  };

  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now() - start;
      while (sent < total && sent * interval <= now) fire(start + sent++ * interval);
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.min(5, sent * interval - now)));
    };
    tick();
  });
  await Promise.all(pending);
  return { sent, overflow, elapsedS: (performance.now() - start) / 1000 };
}

/** `connections` requests always in flight for `durationS` seconds. */
export async function closedLoop({ client, next, connections, durationS, record }) {
  const start = performance.now();
  const deadline = start + durationS * 1000;
  let sent = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const request = next();
      const began = performance.now();
      sent++;
      const result = await client.send(request);
      record(request.route, result, performance.now() - began, Math.floor((began - start) / 1000));
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { sent, overflow: 0, elapsedS: (performance.now() - start) / 1000 };
}
