// What the local tools share: where `npm start` keeps its capability root key and dev token
// (.ron/, git-ignored), the base URL of the local service (RON_URL, else 127.0.0.1:${PORT:-8787}),
// and the token a tool sends (RON_TOKEN, else the dev token file).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./import-ts.mjs";

export const LOCAL_DIR = join(ROOT, ".ron");
export const ROOT_KEY_FILE = join(LOCAL_DIR, "cap-root.key");
export const DEV_TOKEN_FILE = join(LOCAL_DIR, "dev-token");

export function baseUrl() {
  return (process.env.RON_URL ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`).replace(/\/$/, "");
}

const readIfPresent = (file) => (existsSync(file) ? readFileSync(file, "utf8").trim() : undefined);

/** The token to send: RON_TOKEN (set but empty: none), else the dev token `npm start` wrote. */
export function devToken() {
  if (process.env.RON_TOKEN !== undefined) return process.env.RON_TOKEN || undefined;
  return readIfPresent(DEV_TOKEN_FILE);
}

/** `fetch`, with a connection failure turned into one line that names the URL. */
export async function fetchOrExit(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = error.cause?.code ?? error.cause?.errors?.[0]?.code ?? error.cause?.message ?? error.message;
    console.error(`cannot reach ${url}: ${cause} (is the service running? start it with \`npm start\`, or set RON_URL / PORT)`);
    process.exit(1);
  }
}

/** The root key for minting: CAP_ROOT_KEY, else the local one `npm start` created. */
export function rootKeyText() {
  return process.env.CAP_ROOT_KEY || readIfPresent(ROOT_KEY_FILE);
}

/** Write a file readable by its owner only (secrets). */
export function writeSecret(file, text) {
  mkdirSync(LOCAL_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
}
