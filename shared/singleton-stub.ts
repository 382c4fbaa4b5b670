/**
 * @module Stubs of the Durable Objects that must stay single for the whole deployment (the
 * service-wide rate limit bucket, the mailbox's topic directory, the audit log's anchor chain),
 * placed near most of their callers by `DO_LOCATION_HINT` when it is set. Per-client, per-topic and
 * per-shard objects are created near whoever first uses them and need no hint.
 */
import { parseKnobs, type ConfigEnv } from "./config";

/** Cloudflare's location hints for Durable Objects. */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;
export type LocationHint = (typeof LOCATION_HINTS)[number];

/** The stub of the object named `name`, with the configured location hint (read from `env`). */
export function singletonStub<T extends Rpc.DurableObjectBranded | undefined>(namespace: DurableObjectNamespace<T>, name: string, env: ConfigEnv): DurableObjectStub<T> {
  const { DO_LOCATION_HINT: hint } = parseKnobs(env, ["DO_LOCATION_HINT"]);
  return namespace.get(namespace.idFromName(name), hint ? { locationHint: hint } : undefined);
}
