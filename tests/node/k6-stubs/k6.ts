// Stand-in for k6's `k6` module in Node tests.
export const check = (value: unknown, checks: Record<string, (v: any) => boolean>) => Object.values(checks).every((f) => f(value));
