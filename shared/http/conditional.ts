/**
 * @module Conditional request evaluation (RFC 9110 §13) against a strong entity tag.
 */

/** Split an entity-tag list, keeping quoted tags whole (commas may appear inside quotes). */
function entityTags(header: string): string[] {
  return header.match(/(?:W\/)?"[^"]*"|\*/g) ?? [];
}

/**
 * True when `If-None-Match` matches `etag`, so a GET/HEAD should get 304. Uses the weak
 * comparison the RFC requires for If-None-Match: `W/"x"` matches `"x"`; `*` matches any
 * existing representation.
 */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (header === null) return false;
  const strip = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);
  const target = strip(etag);
  return entityTags(header).some((tag) => tag === "*" || strip(tag) === target);
}

/** True when `If-Match` allows the request: absent, `*`, or a strong match (W/ tags never match). */
export function ifMatchAllows(header: string | null, etag: string): boolean {
  if (header === null) return true;
  return entityTags(header).some((tag) => tag === "*" || (!tag.startsWith("W/") && tag === etag));
}

/**
 * True when `If-Range` lets the Range header apply: absent, or the same strong entity tag. A date
 * (we send no Last-Modified) or a weak tag means "send the whole representation".
 */
export function ifRangeAllows(header: string | null, etag: string): boolean {
  if (header === null) return true;
  const value = header.trim();
  return !value.startsWith("W/") && value === etag;
}
