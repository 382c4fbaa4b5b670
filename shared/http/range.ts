/**
 * @module Byte-range requests per RFC 9110 §14: `bytes=a-b`, `bytes=a-`, `bytes=-n`, one or (for
 * multipart answers) several. Pure: takes the header and the representation length, returns
 * what to serve.
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
 * ignored (RFC 9110 lets a server ignore Range), and so are several ranges: only
 * `decideRanges` answers those.
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

export type ByteRange = { start: number; end: number };

export type MultiRangeDecision = RangeDecision | { kind: "multipart"; ranges: ByteRange[] };

/**
 * Like `decideRange`, but with `multipart/byteranges` allowed. RFC 9110 §14.2 lets a server
 * ignore a Range header it finds too costly, so more than `maxRanges` range-specs (counted as
 * sent, before merging) or any invalid one means the header is ignored (the full 200); a 416 is
 * kept for ranges that are well-formed but miss the representation. Unsatisfiable specs are
 * dropped and overlapping or adjacent ones coalesced (§15.3.7.2), so the parts are disjoint and
 * never carry more bytes than the representation; they keep the order of their first spec.
 */
export function decideRanges(range: string | null, length: number, maxRanges: number): MultiRangeDecision {
  if (range === null) return { kind: "full" };
  const eq = range.indexOf("=");
  if (eq < 0 || range.slice(0, eq).trim().toLowerCase() !== "bytes") return { kind: "full" };
  const specs = range.slice(eq + 1).split(",").map((s) => s.trim());
  if (specs.length === 1) return decideRange(range, length);
  if (specs.length > maxRanges) return { kind: "full" };
  const ranges: (ByteRange & { order: number })[] = [];
  for (const [order, spec] of specs.entries()) {
    const one = decideRange(`bytes=${spec}`, length);
    if (one.kind === "full") return { kind: "full" }; // an invalid spec invalidates the header
    if (one.kind === "partial") ranges.push({ start: one.start, end: one.end, order });
  }
  const merged = coalesce(ranges);
  if (merged.length === 0) return { kind: "unsatisfiable" };
  if (merged.length === 1) return { kind: "partial", start: merged[0]!.start, end: merged[0]!.end };
  return { kind: "multipart", ranges: merged };
}

/** Merge overlapping or adjacent ranges; each merged range takes the earliest order of its members. */
function coalesce(ranges: (ByteRange & { order: number })[]): ByteRange[] {
  const byStart = [...ranges].sort((a, b) => a.start - b.start);
  const merged: (ByteRange & { order: number })[] = [];
  for (const r of byStart) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1) {
      last.end = Math.max(last.end, r.end);
      last.order = Math.min(last.order, r.order);
    } else merged.push({ ...r });
  }
  return merged.sort((a, b) => a.order - b.order).map(({ start, end }) => ({ start, end }));
}
