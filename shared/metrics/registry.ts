/**
 * @module A small Prometheus registry: counters, gauges and histograms with labels, rendered in
 * text exposition format 0.0.4. Metrics live in isolate memory, so each isolate reports its own
 * series (locally there is one isolate per worker); `render` can put a constant label (the
 * isolate's id) on every series so scrapes of different isolates never look like one.
 */

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const formatValue = (v: number) =>
  Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v);

abstract class Family<Series> {
  protected readonly series = new Map<string, { labels: Labels; value: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected entry(labels: Labels, create: () => Series): Series {
    const key = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let found = this.series.get(key);
    if (!found) {
      const picked: Labels = {};
      for (const n of this.labelNames) picked[n] = labels[n] ?? "";
      found = { labels: picked, value: create() };
      this.series.set(key, found);
    }
    return found.value;
  }

  /** `constant` is pre-rendered `name="value"` text put on every series (e.g. the isolate label). */
  protected static labelText(labels: Labels, constant: string, extra?: [string, string]): string {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    if (constant) pairs.push(constant);
    if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    if (pairs.length === 0) return "";
    return `{${pairs.join(",")}}`;
  }

  abstract readonly type: "counter" | "gauge" | "histogram";
  protected abstract lines(constant: string): string[];

  render(constant = ""): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.lines(constant)].join("\n");
  }
}

export class Counter extends Family<{ n: number }> {
  readonly type = "counter";
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ n: 0 })).n += by;
  }
  get(labels: Labels = {}): number {
    return this.entry(labels, () => ({ n: 0 })).n;
  }
  protected lines(constant: string): string[] {
    // A family without labels is shown at 0 before its first event, so dashboards see it.
    if (this.series.size === 0 && this.labelNames.length === 0) return [`${this.name}${Family.labelText({}, constant)} 0`];
    return [...this.series.values()].map((s) => `${this.name}${Family.labelText(s.labels, constant)} ${formatValue(s.value.n)}`);
  }
}

export class Gauge extends Family<{ n: number }> {
  readonly type = "gauge";
  set(labels: Labels, value: number): void {
    this.entry(labels, () => ({ n: 0 })).n = value;
  }
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ n: 0 })).n += by;
  }
  dec(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ n: 0 })).n -= by;
  }
  get(labels: Labels = {}): number {
    return this.entry(labels, () => ({ n: 0 })).n;
  }
  protected lines(constant: string): string[] {
    if (this.series.size === 0 && this.labelNames.length === 0) return [`${this.name}${Family.labelText({}, constant)} 0`];
    return [...this.series.values()].map((s) => `${this.name}${Family.labelText(s.labels, constant)} ${formatValue(s.value.n)}`);
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramSeries> {
  readonly type = "histogram";
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  observe(labels: Labels, value: number): void {
    const s = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  protected lines(constant: string): string[] {
    const out: string[] = [];
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((le, i) =>
        out.push(`${this.name}_bucket${Family.labelText(labels, constant, ["le", formatValue(le)])} ${value.counts[i]}`),
      );
      out.push(`${this.name}_bucket${Family.labelText(labels, constant, ["le", "+Inf"])} ${value.count}`);
      out.push(`${this.name}_sum${Family.labelText(labels, constant)} ${formatValue(value.sum)}`);
      out.push(`${this.name}_count${Family.labelText(labels, constant)} ${value.count}`);
    }
    return out;
  }
}

export class Registry {
  readonly #families = new Map<string, Family<unknown>>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** The whole registry in Prometheus text format 0.0.4, with `constantLabels` on every series. */
  render(constantLabels: Labels = {}): string {
    const constant = Object.entries(constantLabels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
    return [...this.#families.values()].map((f) => f.render(constant)).join("\n") + "\n";
  }

  #add<F extends Family<any>>(family: F): F {
    const existing = this.#families.get(family.name);
    if (existing) {
      if (existing.constructor !== family.constructor) throw new Error(`metric ${family.name} registered twice with different types`);
      return existing as F;
    }
    this.#families.set(family.name, family);
    return family;
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
