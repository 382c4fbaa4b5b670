import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyseProfile, renderTopTable, type CpuProfile } from "../../load/profile/analyse.mjs";
import { renderFlameGraph } from "../../load/profile/flamegraph.mjs";
import { findWorkerTarget, startCpuProfile } from "../../load/profile/inspector.mjs";
import { profileScenario } from "../../load/profile/profile.mjs";
// @ts-expect-error: plain JS modules of the load harness
import { bundleWorker, micronodeOptions, serve } from "../../load/driver/targets.mjs";

/** Strict enough XML well-formedness: balanced tags, quoted attributes, only the five entities. */
function parseXml(xml: string): { root: string; elements: Array<{ name: string; attributes: Record<string, string>; text: string }> } {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, "");
  const stack: string[] = [];
  const elements: Array<{ name: string; attributes: Record<string, string>; text: string }> = [];
  const open: Array<{ name: string; attributes: Record<string, string>; text: string }> = [];
  const entity = /&(?!(?:lt|gt|amp|quot|apos);)/;
  let root = "";
  for (const [token] of body.matchAll(/<[^>]*>|[^<]+/g)) {
    if (!token.startsWith("<")) {
      if (stack.length === 0 && token.trim()) throw new Error(`text outside the root: ${token.slice(0, 40)}`);
      if (entity.test(token)) throw new Error(`bare & in text: ${token.slice(0, 40)}`);
      const current = open[open.length - 1];
      if (current) current.text += token;
      continue;
    }
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>$/.exec(token);
    if (close) {
      if (stack.pop() !== close[1]) throw new Error(`mismatched </${close[1]}>`);
      open.pop();
      continue;
    }
    const tag = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!tag) throw new Error(`malformed tag: ${token.slice(0, 80)}`);
    const [, name, rawAttributes, selfClosing] = tag as unknown as [string, string, string, string];
    const attributes: Record<string, string> = {};
    for (const [, key, value] of rawAttributes.matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g) as IterableIterator<[string, string, string]>) {
      if (key in attributes) throw new Error(`duplicate attribute ${key}`);
      if (entity.test(value)) throw new Error(`bare & in attribute ${key}`);
      attributes[key] = value;
    }
    if (stack.length === 0) {
      if (root) throw new Error("more than one root element");
      root = name;
    }
    const element = { name, attributes, text: "" };
    elements.push(element);
    if (!selfClosing) {
      stack.push(name);
      open.push(element);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("> <")}>`);
  return { root, elements };
}
const unescapeXml = (s: string) => s.replace(/&(lt|gt|amp|quot|apos);/g, (_m, e: string) => ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" })[e] ?? "");

/** Function names of the rows of a Markdown table that follows `heading`. */
function tableFunctions(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  const rows: string[] = [];
  for (const line of lines.slice(start + 4)) {
    if (!line.startsWith("|")) break;
    rows.push(/\| `([^`]*)` \|/.exec(line)?.[1] ?? "");
  }
  return rows;
}

const frame = (functionName: string, url = "", lineNumber = -1) => ({ functionName, scriptId: "0", url, lineNumber, columnNumber: 0 });

describe("profile analysis", () => {
  // root → (idle), outer → inner → {outer (recursion), encode (a built-in)}, (garbage collector),
  // and outer again as a second root child (V8 splits a function by call site): merged, and
  // recursion counted once
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 3, 4, 7] },
      { id: 2, callFrame: frame("(idle)") },
      { id: 3, callFrame: frame("outer", "index.js", 10), children: [5] },
      { id: 5, callFrame: frame("inner", "index.js", 20), children: [6, 8] },
      { id: 6, callFrame: frame("outer", "index.js", 10) },
      { id: 8, callFrame: frame("encode") },
      { id: 4, callFrame: frame("(garbage collector)") },
      { id: 7, callFrame: frame("outer", "index.js", 10) },
    ],
    startTime: 0,
    endTime: 900,
    samples: [2, 2, 3, 5, 5, 6, 6, 4, 7, 8, 8],
    timeDeltas: [50, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
  };

  it("sums self and total per function, merging split call sites and counting recursion once", () => {
    const a = analyseProfile(profile);
    expect(a.idleSamples).toBe(2);
    expect(a.busySamples).toBe(9);
    expect(a.intervalUs).toBe(100);
    const row = (name: string) => a.functions.find((f) => f.name === name);
    expect(row("outer")).toMatchObject({ self: 4, total: 8, location: "index.js:11", kind: "other", mainCaller: null });
    expect(row("inner")).toMatchObject({ self: 2, total: 6 });
    // a built-in has no file:line of ours: its main caller stands in
    expect(row("encode")).toMatchObject({ self: 2, total: 2, kind: "runtime", mainCaller: { key: "inner index.js:21", share: 1 } });
    expect(row("(garbage collector)")).toMatchObject({ self: 1, total: 1, kind: "gc" });
    expect(row("(idle)")).toBeUndefined();
    expect([...a.tree.children.values()].map((c) => [c.frame.name, c.total])).toEqual([
      ["(idle)", 2],
      ["outer", 8],
      ["(garbage collector)", 1],
    ]);
    const table = renderTopTable(a, { top: 5 });
    expect(tableFunctions(table, "### Top 5 by self time")).toEqual(["outer", "inner", "encode", "(garbage collector)"]);
    expect(table).toContain("| 1 | `outer` | 4 | 0.4 | 44.4% | 8 | 0.8 | 88.9% | index.js:11 |");
    expect(table).toContain("| 3 | `encode` | 2 | 0.2 | 22.2% | 2 | 0.2 | 22.2% | (runtime built-in) ← inner index.js:21 (100% of its self) |");
  });

  it("draws every busy frame of the merged tree in a well-formed SVG, without (idle)", () => {
    const svg = renderFlameGraph(analyseProfile(profile), { title: "a <test> & more" });
    const { root, elements } = parseXml(svg);
    expect(root).toBe("svg");
    const frames = elements.filter((e) => e.attributes.class === "frame").map((e) => unescapeXml(e.attributes["data-function"] ?? ""));
    expect(frames).toEqual(["all busy samples", "outer", "inner", "outer", "encode", "(garbage collector)"]);
    const widths = elements.filter((e) => e.name === "rect" && e.attributes.rx).map((e) => Number(e.attributes.width));
    expect(widths[1]! / widths[0]!).toBeCloseTo(8 / 9, 3);
    expect(svg).toContain("a &lt;test&gt; &amp; more");
  });

  it("refuses something that is not a CPU profile", () => {
    expect(() => analyseProfile({ nodes: [], startTime: 0, endTime: 0 })).toThrow(/not a CPU profile/);
  });
});

describe("npm run profile against a served micronode", () => {
  let bundle: string;
  beforeAll(() => {
    bundle = bundleWorker({ outDir: join(tmpdir(), `ron-profile-build-${process.pid}`) });
  });

  it("finds the worker on workerd's inspector and names the targets when the worker is missing", async () => {
    const target = await serve(micronodeOptions(bundle), { inspectorPort: 0 });
    try {
      const port = Number(new URL(String(await target.mf.getInspectorURL())).port);
      const found = await findWorkerTarget(port, "micronode");
      expect(found.id).toBe("core:user:micronode");
      expect(new URL(found.url).hostname).toBe("127.0.0.1");
      await expect(startCpuProfile({ port, worker: "no-such-worker", seconds: 1 })).rejects.toThrow(/no inspector target "core:user:no-such-worker".*core:user:micronode/);
      await expect(startCpuProfile({ port, seconds: 0 })).rejects.toThrow(/seconds must be positive/);
    } finally {
      await target.mf.dispose();
    }
  });

  it("profiles 2 s of a light mixed load and writes a .cpuprofile, an SVG flame graph and the top-N tables", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "ron-profile-"));
    const { files, table, report } = await profileScenario({ scenario: "mixed", rate: 40, seconds: 2, bundle, outDir, top: 10 });
    expect(report.totals.failures).toBe(0);
    for (const path of Object.values(files)) expect(path.startsWith(outDir)).toBe(true);

    const profile = JSON.parse(readFileSync(files.cpuprofile, "utf8")) as Required<CpuProfile>;
    expect(profile.nodes.length).toBeGreaterThan(1);
    expect(profile.samples.length).toBeGreaterThan(0);
    expect(profile.timeDeltas.length).toBe(profile.samples.length);
    const ids = new Set(profile.nodes.map((n) => n.id));
    expect(profile.samples.every((id) => ids.has(id))).toBe(true);
    const names = new Set(profile.nodes.map((n) => n.callFrame.functionName || "(anonymous)"));
    expect(profile.nodes.some((n) => n.callFrame.url === "index.js")).toBe(true); // the worker's own code was sampled

    const { root, elements } = parseXml(readFileSync(files.svg, "utf8"));
    expect(root).toBe("svg");
    const frames = elements.filter((e) => e.attributes.class === "frame").map((e) => unescapeXml(e.attributes["data-function"] ?? ""));
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[0]).toBe("all busy samples");
    for (const name of frames.slice(1)) expect(names, name).toContain(name);

    const markdown = readFileSync(files.md, "utf8");
    expect(markdown).toBe(table);
    expect(markdown).toContain("- command: `npm run profile -- mixed --seconds 2`");
    const top = tableFunctions(markdown, "### Top 10 by self time");
    expect(top.length).toBeGreaterThan(0);
    for (const name of top) expect(names, name).toContain(name);
    // frames of the bundle are mapped back to the repository's files through the source map
    expect(markdown).toMatch(/\| (shared|workers|durable-objects)\/[\w/.-]+\.ts:\d+ \|/);
  });

  it("refuses a profile longer than the load", async () => {
    await expect(profileScenario({ scenario: "mixed", seconds: 5, durationS: 2, bundle })).rejects.toThrow(/must last at least the profile/);
  });
});
