/**
 * @module Stored active content: types a browser would run as a document or script in the
 * serving origin (HTML, XHTML, SVG and other XML, JavaScript, PDF, Flash). Served as uploaded
 * they are stored XSS, so each route chooses a policy:
 * - `attachment`: `Content-Disposition: attachment` (download, never render) plus
 *   `Content-Security-Policy: sandbox` (if it renders anyway: no script, an opaque origin);
 * - `sandbox`: rendered inline, but under `Content-Security-Policy: sandbox`;
 * - `allow`: served as is (for trusted publishers; `nosniff` still applies).
 * PDF counts as active: viewers run embedded script and forms; a sandboxed PDF may be downloaded
 * rather than shown, which is the safe side for untrusted uploads.
 */

export type ActiveContentPolicy = "sandbox" | "attachment" | "allow";

const ACTIVE = new Set(["text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/xsl", "application/pdf", "application/x-shockwave-flash"]);
const SCRIPT = /^(application|text)\/(x-)?(javascript|ecmascript|jscript|livescript)$/;
const ESSENCE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

/** Whether a Content-Type is active. One that cannot be parsed counts as active (fail closed). */
export function isActiveContent(contentType: string): boolean {
  const essence = contentType.split(";")[0]!.trim().toLowerCase();
  if (!ESSENCE.test(essence)) return true;
  return ACTIVE.has(essence) || essence.endsWith("+xml") || SCRIPT.test(essence);
}

/** Headers that carry out `policy` for a representation of `contentType` (none for passive types). */
export function activeContentHeaders(contentType: string, policy: ActiveContentPolicy): Record<string, string> {
  if (policy === "allow" || !isActiveContent(contentType)) return {};
  const sandbox = { "Content-Security-Policy": "sandbox" };
  return policy === "attachment" ? { ...sandbox, "Content-Disposition": "attachment" } : sandbox;
}
