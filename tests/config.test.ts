import { describe, expect, it } from "vitest";
import configDoc from "../docs/CONFIG.md?raw";
import { CONFIG_KEYS, parseConfig } from "../shared/config";

/** Knob names as the start script reads them from docs/CONFIG.md. */
const documented = [...configDoc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);

describe("configuration", () => {
  it("documents exactly the knobs the schema reads, so npm start passes every one through", () => {
    expect([...documented].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it("applies the hardened defaults when nothing is set", () => {
    const result = parseConfig({});
    expect(result).toEqual({
      ok: true,
      config: expect.objectContaining({
        REQUEST_TIMEOUT_MS: 5000,
        MAX_INFLIGHT: 512,
        MAX_BODY_BYTES: 1048576,
        DECOMPRESS_RATIO_CAP: 10,
        DECOMPRESS_MAX_BYTES: 8388608,
        AMNESIA: true,
        AMNESIA_MAX_BYTES: 67108864,
      }),
    });
  });

  it("accepts strings and numbers, and the usual boolean spellings", () => {
    for (const [value, expected] of [["false", false], ["0", false], ["OFF", false], ["yes", true], [true, true]] as const) {
      const result = parseConfig({ AMNESIA: value });
      expect(result.ok && result.config.AMNESIA).toBe(expected);
    }
    const result = parseConfig({ MAX_BODY_BYTES: 2048, REQUEST_TIMEOUT_MS: " 250 " });
    expect(result.ok && [result.config.MAX_BODY_BYTES, result.config.REQUEST_TIMEOUT_MS]).toEqual([2048, 250]);
  });

  it("refuses a dedupe window shorter than twice the webhook tolerance, naming MAILBOX_DEDUPE_S", () => {
    for (const env of [{ MAILBOX_DEDUPE_S: "300" }, { MAILBOX_DEDUPE_S: "1000", WEBHOOK_TOLERANCE_S: "600" }]) {
      const result = parseConfig(env);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors).toEqual([expect.stringMatching(/^MAILBOX_DEDUPE_S: must be at least twice WEBHOOK_TOLERANCE_S \(\d+\).*\(got "\d+"\)$/)]);
    }
    expect(parseConfig({ MAILBOX_DEDUPE_S: "1200", WEBHOOK_TOLERANCE_S: "600" }).ok).toBe(true);
    expect(parseConfig({}).ok).toBe(true); // the defaults satisfy it
  });

  it.each([
    ["MAX_BODY_BYTES", "1.5", /whole number/],
    ["MAX_BODY_BYTES", "abc", /must be a number/],
    ["MAX_BODY_BYTES", "1e6", /must be a number in plain digits/],
    ["MAX_BODY_BYTES", "0x100000", /must be a number in plain digits/],
    ["READY_SHED_RATE", "1e-1", /must be a number in plain digits/],
    ["REQUEST_TIMEOUT_MS", "0", /at least 10/],
    ["MAX_INFLIGHT", "1000000", /at most 100000/],
    ["AMNESIA", "maybe", /true or false \(also 1\/0, yes\/no, on\/off\)/],
    ["SENTRY_DSN", "nope", /DSN URL/],
    ["AMNESIA_SHARDS", "0", /at least 1/],
    ["AMNESIA_SHARDS", "1.5", /whole number/],
    ["AMNESIA_SHARDS", "257", /at most 256/],
  ])("refuses %s=%s with a message naming the variable", (name, value, message) => {
    const result = parseConfig({ [name]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatch(new RegExp(`^${name}: `));
      expect(result.errors[0]).toMatch(message);
    }
  });
});
