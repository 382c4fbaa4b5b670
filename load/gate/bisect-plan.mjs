// The plan of npm run perf:bisect, as pure functions (tests/node/perf-bisect.test.ts).

/** `n` commits spread evenly over `history` (oldest first), both ends included, no repeats. */
export function spreadPoints(history, n) {
  const count = Math.min(n, history.length);
  if (count <= 1) return history.slice(0, count);
  return [...new Set(Array.from({ length: count }, (_, i) => history[Math.round((i * (history.length - 1)) / (count - 1))]))];
}

/**
 * Segments between consecutive measured commits whose figures differ by more than `threshold`
 * (relative to the older one) and that have a commit inside: `[older, middle, newer]` each.
 * `metric(commit)` is a commit's figure, or null when it has none.
 */
export function segmentsToSplit(history, measured, metric, threshold) {
  const ordered = history.filter((c) => measured.has(c));
  const splits = [];
  for (let i = 1; i < ordered.length; i++) {
    const [a, b] = [ordered[i - 1], ordered[i]];
    const [ia, ib] = [history.indexOf(a), history.indexOf(b)];
    if (ib - ia < 2) continue;
    const [ma, mb] = [metric(a), metric(b)];
    if (ma !== null && mb !== null && Math.abs(mb - ma) / ma > threshold) splits.push([a, history[Math.floor((ia + ib) / 2)], b]);
  }
  return splits;
}
