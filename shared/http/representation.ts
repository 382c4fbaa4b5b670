/**
 * @module One answer for GET/HEAD of a stored representation, shared by the object API and the
 * edge: If-Match (412), If-None-Match (304), If-Range, and Range (206 single, optional
 * multipart/byteranges, 416), in RFC 9110's order. The ETag is the whole object's.
 */
import { HttpError } from "../errors";
import { ifMatchAllows, ifNoneMatchHits, ifRangeAllows } from "./conditional";
import { contentRange, decideRanges, unsatisfiedRange, type MultiRangeDecision } from "./range";

export interface Representation {
  etag: string;
  contentType: string;
  size: number;
  cacheControl: string;
}

export type RangeOutcome = "none" | "partial" | "multipart" | "unsatisfiable" | "ignored";

export interface ServeOptions {
  /** Serve several ranges as multipart/byteranges (off: several ranges get the full 200). */
  multiRange?: boolean;
  /** Told how the Range header (if any) was answered, for metrics. */
  onRange?: (outcome: RangeOutcome) => void;
}

/** Whether a request can be answered without the body (HEAD, 304, 412): read no bytes then. */
export function needsBody(request: Request, etag: string): boolean {
  if (request.method === "HEAD") return false;
  if (!ifMatchAllows(request.headers.get("if-match"), etag)) return false;
  return !ifNoneMatchHits(request.headers.get("if-none-match"), etag);
}

export function representationResponse(request: Request, rep: Representation, body: Uint8Array | null, options: ServeOptions = {}): Response {
  const headers = new Headers({ "Content-Type": rep.contentType, ETag: rep.etag, "Cache-Control": rep.cacheControl, "Accept-Ranges": "bytes" });
  if (!ifMatchAllows(request.headers.get("if-match"), rep.etag)) {
    throw new HttpError(412, "PRECONDITION_FAILED", "If-Match does not match the current representation", { reason: "if_match", retryable: false, headers: { ETag: rep.etag } });
  }
  if (ifNoneMatchHits(request.headers.get("if-none-match"), rep.etag)) {
    headers.delete("Content-Type");
    return new Response(null, { status: 304, headers });
  }
  const rangeHeader = request.headers.get("range");
  let decision: MultiRangeDecision = { kind: "full" };
  if (rangeHeader !== null) {
    if (!ifRangeAllows(request.headers.get("if-range"), rep.etag)) options.onRange?.("ignored");
    else {
      decision = decideRanges(rangeHeader, rep.size);
      if (decision.kind === "multipart" && !options.multiRange) decision = { kind: "full" };
      options.onRange?.(decision.kind === "full" ? "ignored" : decision.kind);
    }
  }
  const isHead = request.method === "HEAD";
  switch (decision.kind) {
    case "unsatisfiable":
      throw new HttpError(416, "RANGE_NOT_SATISFIABLE", `range not satisfiable for a representation of ${rep.size} bytes`, {
        reason: "range",
        retryable: false,
        headers: { "Content-Range": unsatisfiedRange(rep.size), "Accept-Ranges": "bytes", ETag: rep.etag },
      });
    case "partial":
      headers.set("Content-Range", contentRange(decision.start, decision.end, rep.size));
      headers.set("Content-Length", String(decision.end - decision.start + 1));
      return new Response(isHead || !body ? null : body.subarray(decision.start, decision.end + 1), { status: 206, headers });
    case "multipart": {
      const boundary = `ron-${crypto.randomUUID()}`;
      const encoder = new TextEncoder();
      const parts: Uint8Array[] = [];
      for (const r of decision.ranges) {
        parts.push(encoder.encode(`\r\n--${boundary}\r\nContent-Type: ${rep.contentType}\r\nContent-Range: ${contentRange(r.start, r.end, rep.size)}\r\n\r\n`));
        parts.push(body ? body.subarray(r.start, r.end + 1) : new Uint8Array(r.end - r.start + 1));
      }
      parts.push(encoder.encode(`\r\n--${boundary}--\r\n`));
      const length = parts.reduce((n, p) => n + p.length, 0);
      headers.set("Content-Type", `multipart/byteranges; boundary=${boundary}`);
      headers.set("Content-Length", String(length));
      return new Response(isHead ? null : new Blob(parts).stream(), { status: 206, headers });
    }
    default:
      headers.set("Content-Length", String(rep.size));
      return new Response(isHead || !body ? null : body, { status: 200, headers });
  }
}
