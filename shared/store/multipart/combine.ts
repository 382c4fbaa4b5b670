/**
 * @module Completing a multipart upload: the parts' CVs combined up BLAKE3's tree to the root,
 * which must be the address, and the object's outboard built from the parts' group CVs.
 */
import type { Blake3Tree } from "../../blake3";
import { CV_BYTES, encodeOutboard, equalBytes, hexToBytes, rootOf, subtreeOf, treeShape } from "../outboard";
import type { PartLayout } from "./plan";

/** What the store kept of one part: its length and its CVs (see PartUpload.cvs). */
export interface PartRecord {
  n: number;
  size: number;
  cvs: Uint8Array;
}

export type Combined = { status: "missing"; missing: number[] } | { status: "mismatch" } | { status: "match"; outboard: Uint8Array };

/** Part numbers of `layout` that `parts` lacks (or holds at a wrong length), in order. */
export function missingParts(layout: PartLayout, parts: readonly PartRecord[], partLengthOf: (n: number) => number): number[] {
  const have = new Map(parts.map((p) => [p.n, p]));
  const missing: number[] = [];
  for (let n = 1; n <= layout.parts; n++) if (have.get(n)?.size !== partLengthOf(n)) missing.push(n);
  return missing;
}

/**
 * The parts' root against `hex`: each part's CV is the subtree over its group CVs; the parts' CVs
 * pair up to the root (parent CVs, the root flag on the last). A one-group object's only part
 * kept the root itself.
 */
export function combineParts(tree: Blake3Tree, layout: PartLayout, groupBytes: number, parts: readonly PartRecord[], hex: string, partLengthOf: (n: number) => number): Combined {
  const missing = missingParts(layout, parts, partLengthOf);
  if (missing.length > 0) return { status: "missing", missing };
  const ordered = [...parts].sort((a, b) => a.n - b.n);
  const shape = treeShape(layout.size, groupBytes);
  const expected = hexToBytes(hex);
  if (shape.groups === 1) {
    return equalBytes(ordered[0]!.cvs, expected) ? { status: "match", outboard: encodeOutboard(tree, shape, new Uint8Array(0)) } : { status: "mismatch" };
  }
  const groupLevel = new Uint8Array(shape.groups * CV_BYTES);
  let at = 0;
  for (const part of ordered) {
    if (at + part.cvs.length > groupLevel.length) return { status: "mismatch" };
    groupLevel.set(part.cvs, at);
    at += part.cvs.length;
  }
  if (at !== groupLevel.length) return { status: "mismatch" };
  const root = ordered.length > 1 ? rootOf(tree, concat(ordered.map((p) => subtreeOf(tree, p.cvs)))) : rootOf(tree, groupLevel);
  return equalBytes(root, expected) ? { status: "match", outboard: encodeOutboard(tree, shape, groupLevel) } : { status: "mismatch" };
}

function concat(cvs: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(cvs.length * CV_BYTES);
  cvs.forEach((cv, i) => out.set(cv, i * CV_BYTES));
  return out;
}
