#!/usr/bin/env node
// node load/heap-diff.mjs <before.heapsnapshot> <after.heapsnapshot> [--top 25]
// What grew between two V8 heap snapshots (npm run soak -- --inspect PORT --snapshots DIR writes
// them): objects grouped by kind and constructor or string name, with the change in count and in
// self size, largest growth first. Self size only: enough to see which kind of object piles up.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" } } });
if (positionals.length !== 2) {
  console.error("usage: node load/heap-diff.mjs <before.heapsnapshot> <after.heapsnapshot> [--top N]");
  process.exit(2);
}

/** Count and self bytes per "kind name" (strings grouped as one kind: their text is not a class). */
export function groups(snapshot) {
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const kinds = types[0];
  const width = fields.length;
  const at = { type: fields.indexOf("type"), name: fields.indexOf("name"), size: fields.indexOf("self_size") };
  const out = new Map();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const kind = kinds[nodes[i + at.type]];
    const name = kind === "string" || kind === "concatenated string" || kind === "sliced string" ? "(strings)" : snapshot.strings[nodes[i + at.name]];
    const key = `${kind} ${name.slice(0, 80)}`;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + at.size];
    out.set(key, g);
  }
  return out;
}

const [before, after] = positionals.map((path) => groups(JSON.parse(readFileSync(path, "utf8"))));
const total = (m) => [...m.values()].reduce((s, g) => s + g.bytes, 0);
const rows = [];
for (const [key, g] of after) {
  const b = before.get(key) ?? { count: 0, bytes: 0 };
  rows.push({ what: key, count: g.count, "Δcount": g.count - b.count, "Δbytes": g.bytes - b.bytes });
}
rows.sort((x, y) => y["Δbytes"] - x["Δbytes"]);
console.log(`self size: ${(total(before) / 1048576).toFixed(1)} → ${(total(after) / 1048576).toFixed(1)} MiB`);
console.table(rows.slice(0, Number(values.top)));
