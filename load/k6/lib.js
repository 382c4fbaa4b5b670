// Shared k6 code: every k6 script reads the scenario definitions from ../scenarios.json (the same
// file the local driver uses), so mixes, rates and SLO thresholds are defined once.
// Run: k6 run -e BASE_URL=https://<worker> load/k6/mixed.js   (default http://127.0.0.1:8787)
// Writes need a capability token: -e TOKEN=$(npm run -s cap -- mint --op put --op edge.put)
// Optional: -e RATE=<arrivals/s> -e DURATION=<seconds> -e GITHUB_WEBHOOK_SECRET=<secret> -e LIMIT_RPS=<target's RATE_LIMIT_RPS>
// The edge scenario needs the target to serve the published archive: EDGE_PACKS=load=load/tiles.pmtiles
// Works against a target with default limits (load/k6/README.md): the default rate stays under its
// rate limit, and a drain scenario consumes the webhooks' mailbox topic so it never fills.
import http from "k6/http";
import { check } from "k6";
import crypto from "k6/crypto";

const definitions = JSON.parse(open("../scenarios.json"));
const payloadManifest = JSON.parse(open("./payloads/manifest.json"));

export const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");
const WEBHOOK_SECRET = __ENV.GITHUB_WEBHOOK_SECRET || "load-test-github-secret";
/** Headers of a write: the capability token from -e TOKEN, when given. */
const withToken = (headers) => (__ENV.TOKEN ? Object.assign({}, headers, { Authorization: `Bearer ${__ENV.TOKEN}` }) : headers);

// Encoded PUT bodies, made by `node load/k6/make-payloads.mjs` (k6 cannot produce zstd itself).
const putBodies = {};
for (const entry of payloadManifest.put) {
  (putBodies[entry.size] = putBodies[entry.size] || []).push({ body: open(`./payloads/${entry.file}`, "b"), encoding: entry.encoding });
}
const webhookBodies = payloadManifest.webhooks.map((entry) => open(`./payloads/${entry.file}`));
const tileArchiveBytes = open(`./payloads/${payloadManifest.tiles}`, "b");

/** The target's token bucket (RATE_LIMIT_RPS, default 500/s): one k6 run is one client of it. */
const LIMIT_RPS = Number(__ENV.LIMIT_RPS || 500);
/** Messages one drain call receives (and then acks one by one). */
const DRAIN_BATCH = 100;
const WEBHOOK_TOPIC = "webhooks.github";

/** Share of a scenario's requests that leave a message in a mailbox topic (each costs one ack to drain). */
function webhookShare(scenario) {
  const total = scenario.mix.reduce((n, item) => n + item.weight, 0);
  return scenario.mix.filter((item) => item.route === "POST /webhooks/:provider").reduce((n, item) => n + item.weight, 0) / total;
}

/**
 * The arrival rate: -e RATE when given, else the scenario's documented rate capped so that it,
 * plus the acks that drain its webhooks, stays within 90% of the target's rate limit.
 */
export function rateFor(scenario) {
  if (__ENV.RATE) return Number(__ENV.RATE);
  return Math.min(scenario.rate, Math.floor((0.9 * LIMIT_RPS) / (1 + webhookShare(scenario))));
}

/** k6 options for a scenario: constant arrival rate, the seeds' thresholds tagged per route. */
export function optionsFor(name) {
  const scenario = definitions.scenarios[name];
  if (!scenario || scenario.status !== "ready") throw new Error(`scenario ${name} is not ready`);
  const rate = rateFor(scenario);
  const duration = `${Number(__ENV.DURATION || scenario.duration_s)}s`;
  const drains = webhookShare(scenario) > 0 && __ENV.DRAIN !== "0";
  const thresholds = { http_req_failed: [`rate<${definitions.slo.failure_rate_max}`] };
  for (const item of scenario.mix) thresholds[`http_req_duration{route:${item.route}}`] = [`p(95)<${definitions.slo.p95_ms[item.route]}`];
  return {
    scenarios: {
      [name]: {
        executor: "constant-arrival-rate",
        rate,
        timeUnit: "1s",
        duration,
        preAllocatedVUs: Math.max(10, Math.ceil(rate / 10)),
        maxVUs: Math.max(50, rate * 2),
      },
      // A consumer, as a deployment has one: without it the topic fills at WORK_QUEUE_CAPACITY.
      ...(drains
        ? { drain: { executor: "constant-arrival-rate", exec: "drain", rate: Math.max(1, Math.ceil((rate * webhookShare(scenario) * 2) / DRAIN_BATCH)), timeUnit: "1s", duration, preAllocatedVUs: 2, maxVUs: 20 } }
        : {}),
    },
    thresholds,
  };
}

/** The drain scenario: receive a batch from the webhooks' topic and ack each (token ops mailbox.recv, mailbox.ack). */
export function drain() {
  const res = http.post(`${BASE_URL}/mailbox/recv`, JSON.stringify({ topic: WEBHOOK_TOPIC, max_messages: DRAIN_BATCH }), {
    headers: withToken({ "Content-Type": "application/json" }),
    tags: { route: "drain" },
  });
  if (res.status !== 200) return;
  for (const message of res.json("messages") || []) {
    http.post(`${BASE_URL}/mailbox/ack/${message.msg_id}`, null, { headers: withToken({}), tags: { route: "drain" } });
  }
}

/** setup(): PUT the hot objects once; returns their addresses. */
export function seedHotObjects() {
  const spec = definitions.hot_objects;
  const addresses = [];
  for (let i = 0; i < spec.count; i++) {
    const body = `hot-${i}-`.repeat(Math.ceil(spec.sizes[i % spec.sizes.length] / 8)).slice(0, spec.sizes[i % spec.sizes.length]);
    const res = http.post(`${BASE_URL}/put`, body, { headers: withToken({ "Content-Type": "application/octet-stream" }), tags: { route: "setup" } });
    check(res, { "seeded": (r) => r.status === 200 || r.status === 201 });
    addresses.push(res.json("address"));
  }
  const assets = [];
  for (let i = 0; i < definitions.edge_assets.count; i++) {
    const size = definitions.edge_assets.sizes[i % definitions.edge_assets.sizes.length];
    const path = `load/asset-${i}.bin`;
    const res = http.put(`${BASE_URL}/edge/assets/${path}`, `asset-${i}-`.repeat(Math.ceil(size / 8)).slice(0, size), { headers: withToken({ "Content-Type": "application/octet-stream" }), tags: { route: "setup" } });
    check(res, { "published": (r) => r.status === 200 || r.status === 201 });
    assets.push(path);
  }
  const tiles = http.put(`${BASE_URL}/edge/assets/${definitions.edge_tiles.path}`, tileArchiveBytes, { headers: withToken({ "Content-Type": "application/octet-stream" }), tags: { route: "setup" } });
  check(tiles, { "tiles published": (r) => r.status === 200 || r.status === 201 });
  return { hot: addresses, assets };
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];

/** The request builders, one per route template of scenarios.json. */
const send = {
  "GET /o/:addr": (item, data) => http.get(`${BASE_URL}/o/${pick(data.hot)}`, { tags: { route: item.route } }),
  "GET /edge/assets/*": (item, data) =>
    http.get(`${BASE_URL}/edge/assets/${pick(data.assets)}`, { headers: item.range ? { Range: item.range } : {}, tags: { route: item.route } }),
  "GET /edge/tiles/*": (item) => {
    const z = Math.floor(Math.random() * (definitions.edge_tiles.max_zoom + 1));
    const [x, y] = [Math.floor(Math.random() * 2 ** z), Math.floor(Math.random() * 2 ** z)];
    return http.get(`${BASE_URL}/edge/tiles/${definitions.edge_tiles.archive}/${z}/${x}/${y}.mvt`, { tags: { route: item.route } });
  },
  "POST /put": (item) => {
    const { body, encoding } = pick(putBodies[pick(item.payload_bytes)]);
    const headers = { "Content-Type": "application/octet-stream" };
    if (encoding !== "identity") headers["Content-Encoding"] = encoding;
    return http.post(`${BASE_URL}/put`, body, { headers: withToken(headers), tags: { route: item.route } });
  },
  "POST /webhooks/:provider": (item) => {
    const body = pick(webhookBodies);
    const signature = `sha256=${crypto.hmac("sha256", WEBHOOK_SECRET, body, "hex")}`;
    return http.post(`${BASE_URL}/webhooks/${item.provider || "github"}`, body, {
      headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": `${Date.now()}-${Math.random()}`, "X-Hub-Signature-256": signature },
      tags: { route: item.route },
    });
  },
};

/** The default function of a scenario: one request of its weighted mix per iteration. */
export function iterationFor(name) {
  const mix = definitions.scenarios[name].mix;
  const total = mix.reduce((n, item) => n + item.weight, 0);
  return (data) => {
    let roll = Math.random() * total;
    let item = mix[mix.length - 1];
    for (const candidate of mix) {
      roll -= candidate.weight;
      if (roll < 0) {
        item = candidate;
        break;
      }
    }
    const res = send[item.route](item, data);
    check(res, { "2xx/304": (r) => (r.status >= 200 && r.status < 300) || r.status === 304 });
  };
}
