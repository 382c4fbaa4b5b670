import { describe, expect, it } from "vitest";
import { segmentsToSplit, spreadPoints } from "../../load/gate/bisect-plan.mjs";

const history = Array.from({ length: 11 }, (_, i) => `c${i}`); // oldest first

describe("perf bisect plan", () => {
  it("spreads the first points evenly, both ends included", () => {
    expect(spreadPoints(history, 3)).toEqual(["c0", "c5", "c10"]);
    expect(spreadPoints(history, 6)).toEqual(["c0", "c2", "c4", "c6", "c8", "c10"]);
    expect(spreadPoints(["a", "b"], 7)).toEqual(["a", "b"]);
    expect(spreadPoints(["a"], 7)).toEqual(["a"]);
  });

  it("splits every segment whose ends differ past the threshold, not only one (drift adds up over steps)", () => {
    const figures: Record<string, number> = { c0: 2.0, c5: 2.3, c10: 2.6 };
    const splits = segmentsToSplit(history, new Set(Object.keys(figures)), (c) => figures[c] ?? null, 0.05);
    expect(splits).toEqual([
      ["c0", "c2", "c5"],
      ["c5", "c7", "c10"],
    ]);
  });

  it("leaves alone a segment within the threshold, one with no commit inside, and one without a figure", () => {
    const figures: Record<string, number | null> = { c0: 2.0, c1: 3.0, c5: 3.05, c10: null };
    const splits = segmentsToSplit(history, new Set(Object.keys(figures)), (c) => figures[c] ?? null, 0.05);
    expect(splits).toEqual([]);
  });
});
