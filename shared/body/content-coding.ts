/**
 * @module Content codings the services accept on request bodies: identity, gzip and zstd, one
 * at a time. Anything else, or a stack of codings, is a DecodeError (415 at the HTTP edge).
 */
import { DecodeError } from "../domain-errors";

export type ContentCoding = "identity" | "gzip" | "zstd";

const ALIASES: Record<string, ContentCoding> = { identity: "identity", gzip: "gzip", "x-gzip": "gzip", zstd: "zstd" };

/** Parse a Content-Encoding value (or `meta.content_encoding`) into one coding. */
export function parseContentCoding(value: string | null | undefined): ContentCoding {
  if (value === null || value === undefined) return "identity";
  const tokens = value
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "" && t !== "identity");
  if (tokens.length === 0) return "identity";
  for (const token of tokens) {
    if (!(token in ALIASES)) throw new DecodeError("unsupported", "unsupported_encoding", `unsupported content encoding "${token}"; use identity, gzip or zstd`);
  }
  if (tokens.length > 1) throw new DecodeError("unsupported", "stacked_encoding", `stacked content encodings (${tokens.join(", ")}) are not accepted`);
  return ALIASES[tokens[0]!]!;
}
