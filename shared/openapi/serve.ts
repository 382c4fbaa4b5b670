/**
 * @module `GET /openapi.json` and `GET /docs`: the worker's API document, generated at build time
 * (`npm run openapi`) into workers/<name>/openapi.json.txt, and a small self-contained page that
 * renders it (no CDN). Both are Text modules — strings the runtime never parses as JavaScript, so
 * they add nothing to startup — served as they are; the entity tag is hashed on the first request
 * and kept for the isolate's life. Public: they only describe the API.
 */
import { blake3 } from "../blake3";
import { JSON_CONTENT_TYPE } from "../errors";
import { createRouter, type Router } from "../middleware/router";
import page from "./page.html";

const CACHE_CONTROL = "public, max-age=300";
// the page's own inline script and style; it may fetch openapi.json from this origin and nothing else
const PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'";

/** Whether an If-None-Match header names this tag (a list, `W/` tags or `*`). */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

/** `document`: the generated OpenAPI document (compact JSON). */
export function createApiDocsRouter(document: string): Router {
  let etag: string | undefined;
  const answer = (request: Request) => {
    etag ??= `"b3:${blake3().hashHex(new TextEncoder().encode(document))}"`;
    const headers = { ETag: etag, "Cache-Control": CACHE_CONTROL };
    if (matches(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
    return new Response(request.method === "HEAD" ? null : document, { headers: { ...headers, "Content-Type": JSON_CONTENT_TYPE } });
  };
  return createRouter({
    "/openapi.json": { GET: async (request) => answer(request), HEAD: async (request) => answer(request) },
    "/docs": { GET: async () => new Response(page, { headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": CACHE_CONTROL, "Content-Security-Policy": PAGE_CSP } }) },
  });
}
