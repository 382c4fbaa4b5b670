// Targets for load runs: the micronode worker bundled by wrangler and served by Miniflare
// directly (no `wrangler dev` proxy, which costs ~4x here), plus a hello-world reference worker
// on the same runtime. Everything listens on 127.0.0.1 only.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { importTs } from "../../scripts/import-ts.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const OFFLINE_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const COMPATIBILITY = { compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"] };

/** Every worker configuration that deploys, by the name of its worker. */
export const WORKER_CONFIGS = {
  micronode: "wrangler.toml",
  interop: "workers/interop/wrangler.toml",
  overlay: "workers/overlay/wrangler.toml",
  edge: "workers/edge/wrangler.toml",
  gateway: "workers/gateway/wrangler.toml",
};

/**
 * Bundle a worker with wrangler (as `wrangler deploy` would) into `outDir`; returns the entry path.
 * `env` picks a wrangler environment; "" is the top level (what local runs use).
 */
export function bundleWorker({ root = ROOT, config = "wrangler.toml", outDir, env = "" }) {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "-c", config, "--env", env, "--outdir", outDir], {
    cwd: root,
    env: OFFLINE_ENV,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const entries = readdirSync(outDir).filter((name) => name.endsWith(".js"));
  if (entries.length !== 1) throw new Error(`expected one bundled entry in ${outDir}, found ${entries.join(", ") || "none"}`);
  return join(outDir, entries[0]);
}

/** Raw and gzip size of a bundle directory's JS and WASM modules. */
export function bundleSize(outDir) {
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(outDir)) {
    if (!/\.(js|wasm)$/.test(name)) continue;
    const bytes = readFileSync(join(outDir, name));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw_bytes: raw, gzip_bytes: gzip };
}

/**
 * The capability root key of local harness runs (load, bench, chaos, node tests): loopback only,
 * never a deployment's. HARNESS_TOKEN allows every op under it; `authHeaders` sends it.
 */
export const HARNESS_ROOT_KEY = "6c6f63616c2068617272657373206b6579202d206c6f6f706261636b206f6e6c79";
const capability = await importTs("shared/capability/index.ts");
export const HARNESS_TOKEN = capability.mintToken(capability.rootKeyOf(capability.decodeRootKey(HARNESS_ROOT_KEY)));
export const authHeaders = (headers = {}) => ({ ...headers, authorization: `Bearer ${HARNESS_TOKEN}` });

/** The module types wrangler's bundle holds besides JS: WASM, and Text (the API document and its page). */
export const MODULE_RULES = [
  { type: "CompiledWasm", include: ["**/*.wasm"] },
  { type: "Text", include: ["**/*.txt", "**/*.html"] },
];

/** Miniflare options for the micronode bundle, mirroring wrangler.toml's bindings. */
export function micronodeOptions(scriptPath, vars = {}) {
  return {
    name: "micronode",
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath), // module names must not climb out of this root
    modulesRules: MODULE_RULES,
    ...COMPATIBILITY,
    bindings: { AMNESIA: "true", AMNESIA_SHARDS: "1", CAP_ROOT_KEY: HARNESS_ROOT_KEY, ...vars },
    r2Buckets: ["OBJECTS"],
    durableObjects: {
      AMNESIA_STORE: { className: "AmnesiaStore", useSQLite: true },
      MAILBOX: { className: "Mailbox", useSQLite: true },
      AUDIT_LOG: { className: "AuditLog", useSQLite: true },
      RATE_LIMITER: { className: "RateLimiter", useSQLite: true },
      OVERLAY_SESSION: { className: "OverlaySession", useSQLite: true },
      GOSSIP_HUB: { className: "GossipHub", useSQLite: true },
    },
  };
}

export function helloOptions() {
  return { name: "hello", modules: true, scriptPath: join(ROOT, "load/fixtures/hello-worker.js"), ...COMPATIBILITY };
}

/** Start Miniflare serving `workerOptions` on 127.0.0.1 (`port`, default any free one), with state under `persistDir` (default: a new temp dir). */
export async function serve(workerOptions, { miniflareModule, persistDir, inspectorPort, port = 0 } = {}) {
  const { Miniflare } = miniflareModule ?? (await import("miniflare"));
  const persist = persistDir ?? mkdtempSync(join(tmpdir(), "ron-load-"));
  const mf = new Miniflare({
    ...workerOptions,
    host: "127.0.0.1",
    port,
    cf: false,
    r2Persist: join(persist, "r2"),
    durableObjectsPersist: join(persist, "do"),
    ...(inspectorPort !== undefined ? { inspectorPort } : {}), // 0: any free port (mf.getInspectorURL)
  });
  const url = await mf.ready;
  return { mf, url: url.toString().replace(/\/$/, ""), pid: workerdPid() };
}

/** The newest workerd child of this process (Miniflare runs one per instance). */
export function workerdPid() {
  let newest = null;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      if (comm.startsWith("workerd") && ppid === process.pid) {
        const started = Number(fields[19]);
        if (!newest || started >= newest.started) newest = { pid: Number(entry), started };
      }
    } catch {
      // process ended while we looked
    }
  }
  return newest?.pid ?? null;
}

/** Resident memory of a process in bytes (null when gone). */
export function rssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
  } catch {
    return null;
  }
}

/** Resident memory split by kind (bytes): anonymous (heaps, malloc), file-backed, shared; null when gone. */
export function rssParts(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { anon: kib("RssAnon"), file: kib("RssFile"), shmem: kib("RssShmem") };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

export const fileSize = (path) => statSync(path).size;
