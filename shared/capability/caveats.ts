/**
 * @module First-party caveats: one `key = value` line each, the convention of libmacaroons'
 * examples, so other languages' macaroon libraries can add them as plain strings.
 *
 *   op = put,edge.put        the operations allowed (a set; `admin` is every operation)
 *   prefix = docs/           edge asset paths must start with this
 *   topic = webhooks.*       mailbox/gossip topic; a trailing `*` matches a prefix
 *   expires = 1767225600     unix seconds; at or after it the token is expired
 *   max_bytes = 1048576      request body (or gossip payload) bytes at most
 *
 * Caveats only ever narrow: a token is allowed what every caveat allows. A caveat about a
 * dimension the request does not have (a `topic` on `POST /put`) is not satisfied, and an
 * unknown caveat is never satisfied: both fail closed.
 */
import { CAPABILITY_OPS, isCapabilityOp, type CapabilityOp } from "./ops";

export interface CaveatSpec {
  ops?: readonly CapabilityOp[];
  prefix?: string;
  topic?: string;
  /** Unix seconds. */
  expires?: number;
  maxBytes?: number;
}

/** What one request asks for; fields a route does not have stay undefined. */
export interface CapabilityNeed {
  op: CapabilityOp;
  /** Edge asset path, without the leading `/`. */
  path?: string;
  topic?: string;
  /** Body or payload bytes (declared length). */
  bytes?: number;
  /**
   * The path or topic is not known yet (it is in the body): judge signature, expiry and op now,
   * everything else when the rest of the need is known. Lets a route refuse before reading a body.
   */
  partial?: boolean;
}

/** A token's caveats folded into one grant: the intersection of everything they allow. */
export interface Grant {
  /** Undefined when no `op` caveat restricts the operations. */
  ops?: ReadonlySet<CapabilityOp>;
  prefixes: readonly string[];
  topics: readonly string[];
  expires?: number;
  maxBytes?: number;
  /** Caveats this verifier does not understand; any one makes every request fail. */
  unknown: readonly string[];
}

const LINE = /^([a-z_]+) = (.+)$/;
const MAX_CAVEAT_CHARS = 1024;
const SAFE_INTEGER = /^[0-9]{1,15}$/;

/** The caveat lines for a spec, in a stable order. */
export function formatCaveats(spec: CaveatSpec): string[] {
  const lines: string[] = [];
  if (spec.ops !== undefined) lines.push(`op = ${[...new Set(spec.ops)].join(",")}`);
  if (spec.prefix !== undefined) lines.push(`prefix = ${spec.prefix}`);
  if (spec.topic !== undefined) lines.push(`topic = ${spec.topic}`);
  if (spec.expires !== undefined) lines.push(`expires = ${Math.floor(spec.expires)}`);
  if (spec.maxBytes !== undefined) lines.push(`max_bytes = ${Math.floor(spec.maxBytes)}`);
  for (const line of lines) {
    const problem = caveatProblem(line);
    if (problem) throw new RangeError(`caveat "${line}" ${problem}`);
  }
  return lines;
}

/** Why a caveat line is not one this verifier understands, or undefined when it is. */
export function caveatProblem(line: string): string | undefined {
  if (line.length > MAX_CAVEAT_CHARS) return `is longer than ${MAX_CAVEAT_CHARS} characters`;
  const match = LINE.exec(line);
  if (!match) return "is not `key = value`";
  const [, key, value] = match as unknown as [string, string, string];
  switch (key) {
    case "op": {
      const ops = value.split(",");
      const bad = ops.filter((op) => !isCapabilityOp(op));
      return bad.length ? `names unknown operations (${bad.join(", ")}); known: ${CAPABILITY_OPS.join(", ")}` : undefined;
    }
    case "prefix":
    case "topic":
      return /\s/.test(value) ? "has white space in its value" : undefined;
    case "expires":
    case "max_bytes":
      return SAFE_INTEGER.test(value) ? undefined : "needs a whole number";
    default:
      return `has an unknown key ${key}`;
  }
}

/** Fold caveat lines into a grant. Never throws: what it can't read lands in `unknown`. */
export function grantOf(lines: readonly string[]): Grant {
  let ops: Set<CapabilityOp> | undefined;
  const prefixes: string[] = [];
  const topics: string[] = [];
  const unknown: string[] = [];
  let expires: number | undefined;
  let maxBytes: number | undefined;
  for (const line of lines) {
    if (caveatProblem(line)) {
      unknown.push(line);
      continue;
    }
    const [, key, value] = LINE.exec(line) as unknown as [string, string, string];
    if (key === "op") {
      const listed = value.split(",") as CapabilityOp[];
      const allowed = new Set<CapabilityOp>(listed.includes("admin") ? CAPABILITY_OPS : listed);
      ops = ops ? new Set([...ops].filter((op) => allowed.has(op))) : allowed;
    } else if (key === "prefix") prefixes.push(value);
    else if (key === "topic") topics.push(value);
    else if (key === "expires") expires = Math.min(expires ?? Infinity, Number(value));
    else maxBytes = Math.min(maxBytes ?? Infinity, Number(value));
  }
  return { ops, prefixes, topics, expires, maxBytes, unknown };
}

export const topicMatches = (pattern: string, topic: string) =>
  pattern.endsWith("*") ? topic.startsWith(pattern.slice(0, -1)) : topic === pattern;

export type GrantVerdict = { ok: true } | { ok: false; reason: "expired" | "caveat"; detail: string };

/** Whether a grant allows a need at `nowSeconds`. */
export function judge(grant: Grant, need: CapabilityNeed, nowSeconds: number): GrantVerdict {
  if (grant.expires !== undefined && nowSeconds >= grant.expires) return { ok: false, reason: "expired", detail: `token expired at ${grant.expires}` };
  if (grant.unknown.length) return { ok: false, reason: "caveat", detail: `token has a caveat this service does not understand: ${grant.unknown[0]}` };
  if (grant.ops && !grant.ops.has(need.op)) return { ok: false, reason: "caveat", detail: `token does not allow ${need.op}` };
  if (need.partial) return { ok: true };
  for (const prefix of grant.prefixes) {
    if (need.path === undefined || !need.path.startsWith(prefix)) return { ok: false, reason: "caveat", detail: `token allows paths under ${prefix} only` };
  }
  for (const pattern of grant.topics) {
    if (need.topic === undefined || !topicMatches(pattern, need.topic)) return { ok: false, reason: "caveat", detail: `token allows topic ${pattern} only` };
  }
  if (grant.maxBytes !== undefined && need.bytes !== undefined && need.bytes > grant.maxBytes) {
    return { ok: false, reason: "caveat", detail: `token allows at most ${grant.maxBytes} bytes` };
  }
  return { ok: true };
}

/** The grant as plain JSON, for `npm run cap -- inspect` and the overlay session's attachment. */
export function grantJson(grant: Grant) {
  return {
    ops: grant.ops ? [...grant.ops].sort() : [...CAPABILITY_OPS].sort(),
    prefixes: grant.prefixes,
    topics: grant.topics,
    expires: grant.expires ?? null,
    max_bytes: grant.maxBytes ?? null,
    unknown: grant.unknown,
  };
}
