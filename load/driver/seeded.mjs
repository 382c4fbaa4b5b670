// A small seeded random generator (mulberry32): the same sequence on every run, so two targets
// or two commits measured in one run get the same request order and sizes.
/** @param {number} seed  @returns {() => number} uniform in [0, 1) */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
