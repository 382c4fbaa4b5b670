/**
 * @module One answer for GET/HEAD of a stored representation, shared by the object API and the
 * edge: If-Match (412), If-None-Match (304), If-Range, and Range (206 single, optional
 * multipart/byteranges streamed part by part, 416), in RFC 9110's order. The ETag is the whole
 * object's. Active types get the route's policy (shared/http/active-content).
 */
import { pump } from "../body/pump";
import { HttpError } from "../errors";
import { activeContentHeaders, type ActiveContentPolicy } from "./active-content";
import { ifMatchAllows, ifNoneMatchHits, ifRangeAllows } from "./conditional";
import { contentRange, decideRange, decideRanges, unsatisfiedRange, type ByteRange, type RangeDecision } from "./range";

export interface Representation {
  etag: string;
  contentType: string;
  size: number;
  cacheControl: string;
}

/** Without `maxRanges`, a multipart request may list this many range-specs. */
const DEFAULT_MAX_RANGES = 16;

export type RangeOutcome = "none" | "partial" | "multipart" | "unsatisfiable" | "ignored";

export interface ServeOptions {
  /** Serve several ranges as multipart/byteranges (off: several ranges get the full 200). */
  multiRange?: boolean;
  /** Most range-specs one multipart request may list; more and the header is ignored (full 200). */
  maxRanges?: number;
  /** How an active type (HTML, SVG, script, …) is served; `attachment` unless the route says otherwise. */
  activeContent?: ActiveContentPolicy;
  /** Told how the Range header (if any) was answered, for metrics. */
  onRange?: (outcome: RangeOutcome) => void;
}

/** Whether a request can be answered without the body (HEAD, 304, 412): read no bytes then. */
export function needsBody(request: Request, etag: string): boolean {
  if (request.method === "HEAD") return false;
  if (!ifMatchAllows(request.headers.get("if-match"), etag)) return false;
  return !ifNoneMatchHits(request.headers.get("if-none-match"), etag);
}

type Plan =
  | { kind: "not_modified"; headers: Headers }
  | { kind: "full"; headers: Headers }
  | { kind: "partial"; headers: Headers; start: number; end: number }
  | (MultipartAnswer & { headers: Headers });

/** The 416 for a Range that misses a representation of `rep.size` bytes. */
export function rangeNotSatisfiable(rep: Pick<Representation, "size" | "etag">): HttpError {
  return new HttpError(416, "RANGE_NOT_SATISFIABLE", `range not satisfiable for a representation of ${rep.size} bytes`, {
    reason: "range",
    retryable: false,
    headers: { "Content-Range": unsatisfiedRange(rep.size), "Accept-Ranges": "bytes", ETag: rep.etag },
  });
}

/** Preconditions, then Range: what to answer, with its headers (412 and 416 are thrown). */
function plan(request: Request, rep: Representation, options: ServeOptions): Plan {
  const headers = new Headers({
    "Content-Type": rep.contentType,
    ETag: rep.etag,
    "Cache-Control": rep.cacheControl,
    "Accept-Ranges": "bytes",
    ...activeContentHeaders(rep.contentType, options.activeContent ?? "attachment"),
  });
  if (!ifMatchAllows(request.headers.get("if-match"), rep.etag)) {
    throw new HttpError(412, "PRECONDITION_FAILED", "If-Match does not match the current representation", { reason: "if_match", retryable: false, headers: { ETag: rep.etag } });
  }
  if (ifNoneMatchHits(request.headers.get("if-none-match"), rep.etag)) {
    headers.delete("Content-Type");
    return { kind: "not_modified", headers };
  }
  const rangeHeader = request.headers.get("range");
  let decision: RangeDecision | MultipartAnswer = { kind: "full" };
  if (rangeHeader !== null) {
    if (!ifRangeAllows(request.headers.get("if-range"), rep.etag)) options.onRange?.("ignored");
    else {
      const decided = options.multiRange ? decideRanges(rangeHeader, rep.size, options.maxRanges ?? DEFAULT_MAX_RANGES) : decideRange(rangeHeader, rep.size);
      decision = decided.kind === "multipart" ? multipartAnswer(decided.ranges, rep) : decided;
      options.onRange?.(decision.kind === "full" ? "ignored" : decision.kind);
    }
  }
  switch (decision.kind) {
    case "unsatisfiable":
      throw rangeNotSatisfiable(rep);
    case "partial":
      headers.set("Content-Range", contentRange(decision.start, decision.end, rep.size));
      headers.set("Content-Length", String(decision.end - decision.start + 1));
      return { ...decision, headers };
    case "multipart":
      headers.set("Content-Type", `multipart/byteranges; boundary=${decision.framing.boundary}`);
      headers.set("Content-Length", String(decision.framing.length));
      return { ...decision, headers };
    default:
      headers.set("Content-Length", String(rep.size));
      return { kind: "full", headers };
  }
}

export function representationResponse(request: Request, rep: Representation, body: Uint8Array | null, options: ServeOptions = {}): Response {
  const answer = plan(request, rep, options);
  const headers = answer.headers;
  const send = request.method !== "HEAD" && body !== null;
  switch (answer.kind) {
    case "not_modified":
      return new Response(null, { status: 304, headers });
    case "partial":
      return new Response(send ? body.subarray(answer.start, answer.end + 1) : null, { status: 206, headers });
    case "multipart":
      return new Response(send ? multipartStream(answer.ranges, answer.framing, async (r) => body.subarray(r.start, r.end + 1)) : null, { status: 206, headers });
    default:
      return new Response(send ? body : null, { status: 200, headers });
  }
}

/**
 * Bytes `start` (inclusive) to `end` (exclusive) of the representation, as a stream. It may
 * throw before returning (nothing sent yet: the error answer) or error the stream later (the
 * response is then cut short, never completed).
 */
export type RangeSource = (start: number, end: number) => Promise<ReadableStream<Uint8Array> | Uint8Array>;

/** `representationResponse` for bodies read range by range as they are sent (the object store's verified reads). */
export function representationStreamResponse(request: Request, rep: Representation, source: RangeSource | null, options: ServeOptions = {}): Response | Promise<Response> {
  const answer = plan(request, rep, options); // 412 and 416 throw here, before any read
  const headers = answer.headers;
  const send = request.method !== "HEAD" && source !== null;
  switch (answer.kind) {
    case "not_modified":
      return new Response(null, { status: 304, headers });
    case "partial":
      if (!send) return new Response(null, { status: 206, headers });
      return source(answer.start, answer.end + 1).then((body) => new Response(fixedLength(body, answer.end - answer.start + 1), { status: 206, headers }));
    case "multipart":
      return new Response(send ? multipartStream(answer.ranges, answer.framing, (r) => source(r.start, r.end + 1)) : null, { status: 206, headers });
    default:
      if (!send) return new Response(null, { status: 200, headers });
      return source(0, rep.size).then((body) => new Response(fixedLength(body, rep.size), { status: 200, headers }));
  }
}

/**
 * `stream` sent with its Content-Length; an error in it cuts the response short. Bytes already
 * in hand (verified whole before the answer) go out as they are: no stream, no copy loop.
 */
export function fixedLength(stream: ReadableStream<Uint8Array> | Uint8Array, length: number): ReadableStream<Uint8Array> | Uint8Array {
  if (stream instanceof Uint8Array) return stream;
  const fixed = new FixedLengthStream(length);
  void pump(stream, fixed.writable); // an error reaches the client as a cut-short body
  return fixed.readable;
}

const encoder = new TextEncoder();

interface MultipartFraming {
  boundary: string;
  /** Each part's delimiter and headers, in part order. */
  heads: Uint8Array[];
  /** The closing delimiter. */
  tail: Uint8Array;
  /** Bytes of the whole body: framing plus the ranges. */
  length: number;
}

type MultipartAnswer = { kind: "multipart"; ranges: ByteRange[]; framing: MultipartFraming };

/** A multipart answer, or the full 200 when its body would be at least as big as the whole representation. */
function multipartAnswer(ranges: ByteRange[], rep: Representation): MultipartAnswer | RangeDecision {
  const framing = multipartFraming(ranges, rep.contentType, rep.size);
  return framing.length >= rep.size ? { kind: "full" } : { kind: "multipart", ranges, framing };
}

/** The framing of a multipart/byteranges body and its total length (known before any byte is sent). */
function multipartFraming(ranges: ByteRange[], contentType: string, size: number): MultipartFraming {
  const boundary = `ron-${crypto.randomUUID()}`;
  const heads = ranges.map((r) => encoder.encode(`\r\n--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(r.start, r.end, size)}\r\n\r\n`));
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const length = ranges.reduce((n, r, i) => n + heads[i]!.length + r.end - r.start + 1, tail.length);
  return { boundary, heads, tail, length };
}

/** The chunks of `stream`; its failure is thrown here (and only here: `closed` is observed). */
async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  reader.closed.catch(() => {});
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/**
 * The multipart body, produced part by part as the reader pulls (each part read only when its
 * turn comes, never one joined copy), through a FixedLengthStream so the runtime sends the
 * declared Content-Length.
 */
function multipartStream(ranges: ByteRange[], { heads, tail, length }: MultipartFraming, part: (range: ByteRange) => Promise<Uint8Array | ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  const pieces = (async function* () {
    for (const [i, r] of ranges.entries()) {
      yield heads[i]!;
      const bytes = await part(r);
      if (bytes instanceof Uint8Array) yield bytes;
      else yield* chunksOf(bytes); // a part streamed as it is read, never held whole
    }
    yield tail;
  })();
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await pieces.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
  const fixed = new FixedLengthStream(length);
  void pump(source, fixed.writable); // a client that goes away, or a part that fails, ends the body short
  return fixed.readable;
}
