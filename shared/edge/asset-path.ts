/**
 * @module Asset paths: what follows `/edge/assets/`, decoded once and refused when it could
 * escape or confuse the index: empty, `.`/`..` segments (also percent-encoded), encoded slashes
 * or backslashes, empty segments, control characters, over 1,024 bytes.
 */
import { badRequest } from "../errors";

const PREFIX = "/edge/assets/";

/** The asset path of a request URL; a 400 `bad_path` for anything suspicious. */
export function assetPathOf(url: string): string {
  // Work on the raw path: the URL parser has already resolved plain `..`, but not `%2F` or `%5C`.
  const raw = new URL(url).pathname;
  if (!raw.startsWith(PREFIX)) throw badRequest("not an asset path", "bad_path");
  const encoded = raw.slice(PREFIX.length);
  if (/%2f|%5c/i.test(encoded)) throw badRequest("encoded slashes are not allowed in asset paths", "bad_path");
  let path: string;
  try {
    path = decodeURIComponent(encoded);
  } catch {
    throw badRequest("asset path is not valid percent-encoding", "bad_path");
  }
  if (path === "" || path.length > 1024) throw badRequest("asset path must be 1-1024 characters", "bad_path");
  if (/[\u0000-\u001f\u007f\\]/.test(path)) throw badRequest("asset path has control characters or backslashes", "bad_path");
  if (path.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw badRequest("asset path has empty, . or .. segments", "bad_path");
  }
  return path;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8", htm: "text/html; charset=utf-8", css: "text/css; charset=utf-8", js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8", json: "application/json", txt: "text/plain; charset=utf-8", xml: "application/xml", svg: "image/svg+xml",
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", avif: "image/avif", ico: "image/x-icon",
  woff: "font/woff", woff2: "font/woff2", ttf: "font/ttf", otf: "font/otf", wasm: "application/wasm", pdf: "application/pdf",
  mp4: "video/mp4", webm: "video/webm", mp3: "audio/mpeg", pbf: "application/x-protobuf", mvt: "application/vnd.mapbox-vector-tile",
  pmtiles: "application/vnd.pmtiles", geojson: "application/geo+json", map: "application/json", md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
};

/** Content-Type by extension; application/octet-stream when unknown. */
export function contentTypeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return (dot > path.lastIndexOf("/") && TYPES[path.slice(dot + 1).toLowerCase()]) || "application/octet-stream";
}
