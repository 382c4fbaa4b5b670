/**
 * @module Single byte-range requests per RFC 9110 §14: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * Pure: takes the header and the representation length, returns what to serve.
 */

export type RangeDecision =
  /** No usable Range header (absent, not `bytes`, invalid syntax, or several ranges): serve 200 in full. */
  | { kind: "full" }
  /** Serve 206 with bytes `start..end` inclusive. */
  | { kind: "partial"; start: number; end: number }
  /** Valid syntax but nothing overlaps the representation: 416 with `bytes *\/length`. */
  | { kind: "unsatisfiable" };

const SPEC = /^(\d*)-(\d*)$/;

/**
 * Decide how to answer `range` for a representation of `length` bytes. Invalid syntax is
 * ignored (RFC 9110 lets a server ignore Range); multiple ranges are served in full, since
 * multipart responses are off by default.
 */
export function decideRange(range: string | null, length: number): RangeDecision {
  if (range === null) return { kind: "full" };
  const eq = range.indexOf("=");
  if (eq < 0 || range.slice(0, eq).trim().toLowerCase() !== "bytes") return { kind: "full" };
  const specs = range.slice(eq + 1).split(",").map((s) => s.trim());
  if (specs.length !== 1) return { kind: "full" };
  const m = SPEC.exec(specs[0]!);
  if (!m) return { kind: "full" };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    // suffix range: the last n bytes
    const n = Number(last);
    if (!Number.isSafeInteger(n)) return { kind: "full" };
    if (n === 0 || length === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, length - n), end: length - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (!Number.isSafeInteger(start) || (last !== "" && !Number.isSafeInteger(end))) return { kind: "full" };
  if (end < start) return { kind: "full" }; // invalid range-spec: ignore the header
  if (start >= length) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: Math.min(end, length - 1) };
}

export const contentRange = (start: number, end: number, length: number) => `bytes ${start}-${end}/${length}`;
export const unsatisfiedRange = (length: number) => `bytes */${length}`;

export type MultiRangeDecision = RangeDecision | { kind: "multipart"; ranges: { start: number; end: number }[] };

/** Most ranges one multipart answer will carry; more is served in full (RFC 9110 lets us). */
export const MAX_RANGES = 16;

/**
 * Like `decideRange`, but with `multipart/byteranges` allowed: several valid ranges give a
 * multipart decision (unsatisfiable ones dropped); any invalid spec means the header is ignored.
 */
export function decideRanges(range: string | null, length: number): MultiRangeDecision {
  if (range === null) return { kind: "full" };
  const eq = range.indexOf("=");
  if (eq < 0 || range.slice(0, eq).trim().toLowerCase() !== "bytes") return { kind: "full" };
  const specs = range.slice(eq + 1).split(",").map((s) => s.trim());
  if (specs.length === 1) return decideRange(range, length);
  if (specs.length > MAX_RANGES) return { kind: "full" };
  const ranges: { start: number; end: number }[] = [];
  for (const spec of specs) {
    const one = decideRange(`bytes=${spec}`, length);
    if (one.kind === "full") return { kind: "full" }; // an invalid spec invalidates the header
    if (one.kind === "partial") ranges.push({ start: one.start, end: one.end });
  }
  if (ranges.length === 0) return { kind: "unsatisfiable" };
  if (ranges.length === 1) return { kind: "partial", ...ranges[0]! };
  return { kind: "multipart", ranges };
}
