#!/usr/bin/env node
// `npm start`: runs the micronode worker locally with `wrangler dev` on 127.0.0.1:${PORT:-8787},
// fully offline. Every knob and secret listed in docs/CONFIG.md can be overridden by an
// environment variable of the same name (`AMNESIA=false MAX_BODY_BYTES=2097152 npm start`).
// Waits for /readyz and says so; a refused configuration is printed and the process exits 1.
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
const host = "127.0.0.1";
const config = process.argv[2] ?? "wrangler.toml";

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

const vars = { BUILD_GIT_SHA: gitSha(), BUILD_TIME: new Date().toISOString() };
for (const name of knobNames(readFileSync(join(root, "docs/CONFIG.md"), "utf8"))) {
  if (process.env[name] !== undefined) vars[name] = process.env[name];
}

const args = ["dev", "-c", config, "--ip", host, "--port", port, "--show-interactive-dev-session=false"];
for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);

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
        console.log(`\nron-workers micronode ready on http://${host}:${port} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
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
  console.error("micronode did not become ready within 60 s");
}
waitReady();
