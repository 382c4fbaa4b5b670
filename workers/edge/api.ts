/**
 * @module The edge facet's routes as the API document describes them (build time only:
 * `npm run openapi`).
 */
import { anyBytes, BAD_ADDRESS, bytesOrSlice, DECODE_ERRORS, hexParameter, IF_MATCH_ERROR, INTEGRITY, PROOF_ERRORS, proofParameter, RANGE_ERROR, representationAnswers, SAMPLE_HEX, STORE_FULL, UNKNOWN_OBJECT } from "../../shared/openapi/shapes";
import type { ErrorSpec, OperationSpec, ParameterSpec } from "../../shared/openapi/spec";
import * as z from "../../shared/zod";

const assetPath: ParameterSpec = {
  name: "path",
  in: "path",
  description: "The asset's path (may contain `/`): percent-decoded once; encoded slashes or backslashes, empty, `.` or `..` segments, control characters and over 1,024 characters are refused.",
  example: "docs/index.html",
};
const pin: ParameterSpec = {
  name: "b3",
  in: "query",
  description: "Pin: 64 lowercase hex. The answer is these bytes or `502 pin_mismatch`, for every request shape.",
  schema: { json: { type: "string", pattern: "^[0-9a-f]{64}$" } },
};
const BAD_PATH: ErrorSpec = { status: 400, code: "BAD_REQUEST", reason: "bad_path", when: "an asset path that is refused (see the parameter)" };
const UNKNOWN_ASSET: ErrorSpec = { status: 404, code: "NOT_FOUND", when: "no asset at this path" };
const PIN_MISMATCH: ErrorSpec = { status: 502, code: "INTEGRITY_FAIL", reason: "pin_mismatch", when: "the path points at other bytes than `?b3=`" };
const BAD_PIN: ErrorSpec = { status: 400, code: "BAD_REQUEST", reason: "bad_address", when: "`?b3=` is not 64 lowercase hex" };
/** A miss in EDGE_MODE=live (shared/edge/live-fill.ts). */
const LIVE_FILL: ErrorSpec[] = [
  { status: 403, code: "FORBIDDEN", reason: "not_allowed", when: "live fill from a host not on EDGE_ALLOW_HOSTS", retryable: false },
  { status: 404, code: "NOT_FOUND", reason: "upstream_not_found", when: "live fill: the upstream has no such path" },
  { status: 502, code: "UPSTREAM_FAILED", reason: "upstream_error", when: "live fill: the upstream kept failing through the retry budget", retryable: true },
  { status: 504, code: "UPSTREAM_FAILED", reason: "upstream_timeout", when: "live fill: the upstream did not answer within EDGE_UPSTREAM_TIMEOUT_MS through the retry budget", retryable: true },
  { status: 502, code: "INTEGRITY_FAIL", reason: "upstream_mismatch", when: "live fill: the upstream's bytes do not match `?b3=` (nothing stored)" },
  STORE_FULL,
];
const archive: ParameterSpec = { name: "archive", in: "path", description: "A pack's name from EDGE_PACKS.", example: "world" };
const NO_ARCHIVE: ErrorSpec = { status: 404, code: "NOT_FOUND", when: "no such archive, or a tile outside it" };
const PACK_DOWN: ErrorSpec = { status: 503, code: "SERVICE_UNAVAILABLE", reason: "NOT_READY", when: "the pack does not mount (missing, wrong hash, bad header)", headers: ["Retry-After", "X-Reason"] };
const published = z.strictObject({ path: z.string(), address: z.string().check(z.regex(/^b3:[0-9a-f]{64}$/)), size: z.number().check(z.int(), z.gte(0)), type: z.string(), corr_id: z.string() });
const publishedBody = {
  content: {
    "application/json": {
      schema: { name: "AssetPublished", schema: published },
      example: { path: "docs/index.html", address: `b3:${SAMPLE_HEX}`, size: 0, type: "text/html", corr_id: "5b8e2c0a-93f1-4c57-8d7e-2f4a6c1b9e03" },
    },
  },
};
// TileJSON 3.0.0 as pmtiles writes it: a loose object, the fields a map client needs named
const tileJson = z.looseObject({ tilejson: z.string(), scheme: z.optional(z.string()), tiles: z.array(z.string()), minzoom: z.optional(z.number()), maxzoom: z.optional(z.number()) });

const assetGet = (method: "GET" | "HEAD"): OperationSpec => ({
  method,
  template: "/edge/assets/*",
  operationId: method === "GET" ? "getAsset" : "headAsset",
  summary: method === "GET" ? "Read an asset by path" : "An asset's headers",
  description: "Verified before serving. Active types follow EDGE_ACTIVE_CONTENT (default: inline under `Content-Security-Policy: sandbox`). In EDGE_MODE=live a miss on `<host>/<path>` is fetched from an allow-listed host.",
  tag: "edge",
  admission: "read",
  parameters: [assetPath, pin, proofParameter, "Range", "If-None-Match", "If-Match", "If-Range"],
  responses: [
    {
      status: 200,
      description: "The asset; `Cache-Control` is EDGE_CACHE_CONTROL. With `?proof=1`: its verified slice (immutable caching, `Vary: Range`, no ETag), checkable end to end with `?b3=`.",
      headers: ["ETag", "Cache-Control", "Accept-Ranges", "Content-Disposition", "Content-Security-Policy", "Vary"],
      ...(method === "GET" ? { body: bytesOrSlice } : {}),
    },
    ...representationAnswers(method === "GET"),
  ],
  errors: [BAD_PATH, BAD_PIN, ...PROOF_ERRORS, UNKNOWN_ASSET, IF_MATCH_ERROR, RANGE_ERROR, PIN_MISMATCH, INTEGRITY, ...LIVE_FILL],
  samplePath: "/edge/assets/docs/index.html",
});

const cas = (method: "GET" | "HEAD"): OperationSpec => ({
  method,
  template: "/cas/blake3/:hex",
  operationId: method === "GET" ? "getCas" : "headCas",
  summary: "Read an object by bare BLAKE3 hex",
  description: "Immutable caching; active types are attachments under `Content-Security-Policy: sandbox`.",
  tag: "edge",
  admission: "read",
  parameters: [hexParameter, proofParameter, "Range", "If-None-Match", "If-Match", "If-Range"],
  responses: [
    {
      status: 200,
      description: "The object. With `?proof=1`: its verified slice (`application/vnd.ron.b3-slice`, `Vary: Range`, no ETag).",
      headers: ["ETag", "Cache-Control", "Accept-Ranges", "Content-Disposition", "Content-Security-Policy", "Vary"],
      ...(method === "GET" ? { body: bytesOrSlice } : {}),
    },
    ...representationAnswers(method === "GET"),
  ],
  errors: [BAD_ADDRESS, ...PROOF_ERRORS, UNKNOWN_OBJECT, IF_MATCH_ERROR, RANGE_ERROR, ...(method === "GET" ? [INTEGRITY] : [])],
  samplePath: `/cas/blake3/${SAMPLE_HEX}`,
});

const tile = (method: "GET" | "HEAD"): OperationSpec => ({
  method,
  template: "/edge/tiles/:archive/:z/:x/:y.:ext",
  operationId: method === "GET" ? "getTile" : "headTile",
  summary: "A map tile from a PMTiles pack",
  tag: "tiles",
  admission: "read",
  parameters: [
    archive,
    { name: "z", in: "path", description: "Zoom.", schema: { json: { type: "string", pattern: "^[0-9]{1,10}$" } }, example: "0" },
    { name: "x", in: "path", description: "Column.", schema: { json: { type: "string", pattern: "^[0-9]{1,10}$" } }, example: "0" },
    { name: "y", in: "path", description: "Row.", schema: { json: { type: "string", pattern: "^[0-9]{1,10}$" } }, example: "0" },
    { name: "ext", in: "path", description: "The archive's tile type: `mvt` (or `pbf`), `png`, `jpg` (or `jpeg`), `webp`, `avif`.", example: "mvt" },
    "If-None-Match",
  ],
  responses: [
    { status: 200, description: "The tile, with `Content-Encoding` when the archive's tiles are compressed.", headers: ["ETag", "Cache-Control", "Content-Encoding"], ...(method === "GET" ? { body: anyBytes } : {}) },
    { status: 204, description: "A missing vector tile.", headers: ["Cache-Control"] },
    { status: 304, description: "`If-None-Match` matched.", headers: ["ETag", "Cache-Control"] },
  ],
  errors: [
    NO_ARCHIVE,
    { status: 400, code: "BAD_REQUEST", reason: "bad_tile", when: "z, x or y not a whole number, or another extension than the archive's" },
    PACK_DOWN,
  ],
  samplePath: "/edge/tiles/world/0/0/0.mvt",
});

export const edgeApi: OperationSpec[] = [
  assetGet("GET"),
  assetGet("HEAD"),
  {
    method: "PUT",
    template: "/edge/assets/*",
    operationId: "putAsset",
    summary: "Publish an asset: the bytes go to the content-addressed store and the path points at them",
    description:
      "The type is the request's Content-Type unless it is missing or application/octet-stream, then by extension. In amnesia mode the pointer counts against the budget of the shard its path picks (AMNESIA_MAX_BYTES / AMNESIA_SHARDS). " +
      "With `?b3=<64 hex>` and no body the path points at an object already stored (one too large for a body: sent with `POST /uploads` first; `npm run publish` does this by size).",
    tag: "edge",
    capability: "edge.put",
    admission: "write",
    parameters: [assetPath, "Content-Encoding"],
    requestBody: anyBytes,
    responses: [
      { status: 201, description: "A new or changed asset.", headers: ["ETag"], body: publishedBody },
      { status: 200, description: "The path already held these bytes.", headers: ["ETag"], body: publishedBody },
    ],
    errors: [
      BAD_PATH,
      { status: 400, code: "BAD_REQUEST", reason: "bad_content_type", when: "Content-Type is not a media type" },
      { status: 400, code: "BAD_REQUEST", reason: "bad_address", when: "`?b3=` is not 64 lowercase hex" },
      { status: 400, code: "BAD_REQUEST", reason: "body_with_b3", when: "`?b3=` with a body (it points at a stored object: send none)" },
      { status: 404, code: "NOT_FOUND", when: "`?b3=` names no stored object" },
      ...DECODE_ERRORS,
      STORE_FULL,
    ],
    samplePath: "/edge/assets/docs/index.html",
  },
  cas("GET"),
  cas("HEAD"),
  tile("GET"),
  tile("HEAD"),
  {
    method: "GET",
    template: "/edge/tiles/:archive.json",
    operationId: "getTileJson",
    summary: "TileJSON of a pack",
    description: "`tiles` is `<PUBLIC_BASE_URL>/edge/tiles/<name>/{z}/{x}/{y}.<ext>`, or relative without PUBLIC_BASE_URL; never from the request's Host.",
    tag: "tiles",
    admission: "read",
    parameters: [archive],
    responses: [
      {
        status: 200,
        description: "TileJSON 3.0.0.",
        headers: ["Cache-Control"],
        body: { content: { "application/json": { schema: { name: "TileJson", schema: tileJson }, example: { tilejson: "3.0.0", scheme: "xyz", tiles: ["/edge/tiles/world/{z}/{x}/{y}.mvt"], minzoom: 0, maxzoom: 4 } } } },
      },
    ],
    errors: [NO_ARCHIVE, PACK_DOWN],
    samplePath: "/edge/tiles/world.json",
  },
];
