/**
 * @module The keyring a worker verifies with, built once per configuration, and the
 * per-isolate cache of verified tokens: a token's signature chain never changes, so it is
 * checked once; its caveats (expiry included) are judged on every request.
 */
import { parseKnobs, type Config, type ConfigEnv } from "../config";
import { CapabilityDenied } from "./errors";
import { judge, type CapabilityNeed } from "./caveats";
import { decodeRootKey, rootKeyOf, type Keyring } from "./root-key";
import { verifyToken, type VerifiedToken } from "./token";

type KeyKnobs = Partial<Pick<Config, "CAP_ROOT_KEY" | "CAP_ROOT_KEY_PREVIOUS">>;
const keyrings = new WeakMap<KeyKnobs, Keyring | null>();

/** The configured keyring, or null when `CAP_ROOT_KEY` is unset (default deny). */
export function keyringOf(config: KeyKnobs): Keyring | null {
  let keyring = keyrings.get(config);
  if (keyring === undefined) {
    keyring = null;
    // config.ts has already refused keys that don't decode
    const current = config.CAP_ROOT_KEY ? decodeRootKey(config.CAP_ROOT_KEY) : undefined;
    const previous = config.CAP_ROOT_KEY_PREVIOUS ? decodeRootKey(config.CAP_ROOT_KEY_PREVIOUS) : undefined;
    if (current instanceof Uint8Array) keyring = { current: rootKeyOf(current), previous: previous instanceof Uint8Array ? rootKeyOf(previous) : undefined };
    keyrings.set(config, keyring);
  }
  return keyring;
}

const envKeyrings = new WeakMap<ConfigEnv, Keyring | null>();

/**
 * The keyring from a worker's env, for code that runs outside a request's context (Durable
 * Objects read their own configuration): parsed once per env object.
 */
export function keyringOfEnv(env: ConfigEnv): Keyring | null {
  let keyring = envKeyrings.get(env);
  if (keyring === undefined) envKeyrings.set(env, (keyring = keyringOf(parseKnobs(env, ["CAP_ROOT_KEY", "CAP_ROOT_KEY_PREVIOUS"]))));
  return keyring;
}

/** Verified tokens per keyring, least recently used dropped first past the cap. */
const VERIFIED_CAP = 1024;
const verified = new WeakMap<Keyring, Map<string, VerifiedToken>>();

function verifiedToken(token: string, keyring: Keyring): VerifiedToken {
  let cache = verified.get(keyring);
  if (!cache) verified.set(keyring, (cache = new Map()));
  const hit = cache.get(token);
  if (hit) {
    cache.delete(token);
    cache.set(token, hit);
    return hit;
  }
  const fresh = verifyToken(token, keyring);
  if (cache.size >= VERIFIED_CAP) cache.delete(cache.keys().next().value as string);
  cache.set(token, fresh);
  return fresh;
}

/** The id of a token that verifies under `keyring` (cached like every verification), else null; rate limits key clients on it. */
export function verifiedTokenId(token: string, keyring: Keyring): string | null {
  try {
    return verifiedToken(token, keyring).id;
  } catch {
    return null;
  }
}

/**
 * Authenticate a presented token and judge one need against it. Throws CapabilityDenied with
 * the reason the edges translate (401/403/503 over HTTP, an error frame on a session).
 */
export function authorize(keyring: Keyring | null, token: string | undefined, need: CapabilityNeed, nowSeconds = Date.now() / 1000): VerifiedToken {
  if (!keyring) throw new CapabilityDenied("not_configured", "no capability root key is configured (CAP_ROOT_KEY), so this operation is refused");
  if (!token) throw new CapabilityDenied("missing_token", `${need.op} needs a capability token`);
  const checked = verifiedToken(token, keyring);
  judgeOrThrow(checked, need, nowSeconds);
  return checked;
}

/**
 * Authenticate a token without a particular need: signature, root key and expiry. An overlay
 * session does this at HELLO, then judges each request it makes.
 */
export function authenticate(keyring: Keyring | null, token: string | undefined, nowSeconds = Date.now() / 1000): VerifiedToken {
  if (!keyring) throw new CapabilityDenied("not_configured", "no capability root key is configured (CAP_ROOT_KEY)");
  if (!token) throw new CapabilityDenied("missing_token", "a capability token is needed");
  const checked = verifiedToken(token, keyring);
  const expires = checked.grant.expires;
  if (expires !== undefined && nowSeconds >= expires) throw new CapabilityDenied("expired", `token expired at ${expires}`);
  return checked;
}

/** Judge a further need (e.g. the topic read from the body) against an authenticated token. */
export function judgeOrThrow(token: VerifiedToken, need: CapabilityNeed, nowSeconds = Date.now() / 1000): void {
  const verdict = judge(token.grant, need, nowSeconds);
  if (!verdict.ok) throw new CapabilityDenied(verdict.reason, verdict.detail);
}
