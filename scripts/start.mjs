#!/usr/bin/env node
// `npm start [-- <wrangler config>]`: runs a worker locally with `wrangler dev` on
// 127.0.0.1:${PORT:-8787}, fully offline (default: micronode, wrangler.toml).
// `npm run start:macronode` (`--macronode`) runs the gateway with the interop, overlay and edge
// workers behind it in one wrangler dev (service bindings and shared Durable Objects). Every knob and secret
// listed in docs/CONFIG.md can be set by an environment variable of the same name
// (`AMNESIA=false MAX_BODY_BYTES=2097152 npm start`).
//
// Capabilities: without CAP_ROOT_KEY in the environment it uses a local root key (.ron/cap-root.key,
// created on first start, git-ignored), mints a dev token for every op and writes it to
// .ron/dev-token, so `-H "Authorization: Bearer $(cat .ron/dev-token)"` works. Knobs and secrets
// reach the runtime through a private env file (.ron/dev.env, mode 0600), never the command line,
// so they don't show in `ps`. Checks the port first; waits for /readyz and says so; a refused
// configuration is printed and the process exits 1.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative } from "node:path";
import { importTs, ROOT as root } from "./import-ts.mjs";
import { DEV_TOKEN_FILE, LOCAL_DIR, ROOT_KEY_FILE, writeSecret } from "./local-dev.mjs";

const port = process.env.PORT ?? "8787";
const host = "127.0.0.1";
const macronode = process.argv[2] === "--macronode";
/** The macronode's configs: the gateway first (it gets the port), then the services it binds. */
const MACRONODE_CONFIGS = ["workers/gateway/wrangler.toml", "workers/interop/wrangler.toml", "workers/overlay/wrangler.toml", "workers/edge/wrangler.toml"];
const config = macronode ? MACRONODE_CONFIGS[0] : (process.argv[2] ?? "wrangler.toml");

/** Knob names are the first column of docs/CONFIG.md's tables, e.g. | `MAX_BODY_BYTES` | ... */
export function knobNames(markdown) {
  return [...markdown.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
}

function gitSha() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "unknown";
  }
}

/** The worker's name from its wrangler config (`name = "ron-micronode"`). */
function workerName() {
  const path = join(root, config);
  if (!existsSync(path)) {
    console.error(`no wrangler config at ${config}`);
    process.exit(1);
  }
  return /^name\s*=\s*"([^"]+)"/m.exec(readFileSync(path, "utf8"))?.[1] ?? config;
}

/** Fail fast, before wrangler starts, when something already listens on the port. */
function checkPortFree() {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error) => {
      console.error(error.code === "EADDRINUSE" ? `port ${port} on ${host} is in use: stop what runs there, or start on another port with PORT=<n> npm start` : `cannot listen on ${host}:${port}: ${error.message}`);
      process.exit(1);
    });
    probe.listen(Number(port), host, () => probe.close(resolve));
  });
}

/** The local root key: CAP_ROOT_KEY from the environment, else .ron/cap-root.key (created once). */
function localRootKey() {
  if (process.env.CAP_ROOT_KEY) return process.env.CAP_ROOT_KEY;
  if (!existsSync(ROOT_KEY_FILE)) writeSecret(ROOT_KEY_FILE, randomBytes(32).toString("hex"));
  return readFileSync(ROOT_KEY_FILE, "utf8").trim();
}

const name = macronode ? "macronode (gateway + interop, overlay, edge)" : workerName();
await checkPortFree();

const rootKey = localRootKey();
const capability = await importTs("shared/capability/index.ts");
const keyBytes = capability.decodeRootKey(rootKey);
if (typeof keyBytes === "string") {
  console.error(`CAP_ROOT_KEY ${keyBytes}`);
  process.exit(1);
}
writeSecret(DEV_TOKEN_FILE, capability.mintToken(capability.rootKeyOf(keyBytes)));

const vars = { BUILD_GIT_SHA: gitSha(), BUILD_TIME: new Date().toISOString(), CAP_ROOT_KEY: rootKey };
for (const knob of knobNames(readFileSync(join(root, "docs/CONFIG.md"), "utf8"))) {
  if (process.env[knob] !== undefined && knob !== "CAP_ROOT_KEY") vars[knob] = process.env[knob];
}
const envFile = join(LOCAL_DIR, "dev.env");
writeSecret(envFile, Object.entries(vars).map(([key, value]) => `${key}=${JSON.stringify(String(value))}`).join("\n"));

// wrangler dev gives --env-file to the first worker only: the macronode's services read the same
// knobs from a .dev.vars beside their config (git-ignored, 0600, removed on exit)
const serviceVarFiles = macronode ? MACRONODE_CONFIGS.slice(1).map((c) => join(root, dirname(c), ".dev.vars")) : [];
for (const file of serviceVarFiles) writeSecret(file, readFileSync(envFile, "utf8"));
const removeServiceVars = () => serviceVarFiles.forEach((file) => rmSync(file, { force: true }));
process.on("exit", removeServiceVars);
const configArgs = (macronode ? MACRONODE_CONFIGS : [config]).flatMap((c) => ["-c", c]);
const args = ["dev", ...configArgs, "--env", "", "--ip", host, "--port", port, "--show-interactive-dev-session=false", "--env-file", envFile];
const wrangler = spawn(join(root, "node_modules/.bin/wrangler"), args, {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
  // keep the dev tools offline: no metrics, no cf.json fetch
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});
let refused = false;
const stop = () => wrangler.kill("SIGTERM");
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
wrangler.on("exit", (code) => process.exit(refused ? 1 : (code ?? 0)));

const started = Date.now();
async function waitReady() {
  while (Date.now() - started < 60_000) {
    try {
      const response = await fetch(`http://${host}:${port}/readyz`);
      const body = await response.json();
      if (response.ok) {
        const tokenFile = relative(process.cwd(), DEV_TOKEN_FILE) || DEV_TOKEN_FILE;
        console.log(`\nron-workers ${name} ready on http://${host}:${port} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        console.log(`dev token (every op, this local root key only) in ${tokenFile}:`);
        console.log(`  curl -H "Authorization: Bearer $(cat ${tokenFile})" …   or mint narrower ones: npm run -s cap -- mint --op put --ttl 3600`);
        return;
      }
      if (body.missing?.includes("config")) {
        console.error(`\nconfiguration refused: ${body.detail?.config}`);
        refused = true;
        stop();
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.error(`${name} did not become ready within 60 s`);
}
waitReady();
