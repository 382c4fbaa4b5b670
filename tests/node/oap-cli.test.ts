import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const cli = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/oap.mjs");
/** Stdout, stderr and exit code of the CLI. */
const runOap = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args]);
    return { stdout: stdout.trim(), stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code: number };
    return { stdout: (failed.stdout ?? "").trim(), stderr: failed.stderr ?? "", code: failed.code };
  }
};
const oap = async (...args: string[]) => (await runOap(...args)).stdout;

it("npm run oap encodes JSON to hex and decodes it back, with numbers, decimal strings and hex", async () => {
  const json = { flags: 9, code: 0, app_proto_id: 0, tenant_id: "340282366920938463463374607431768211455", corr_id: "18446744073709551615", cap: "abcd", payload: "68656c6c6f" };
  const hex = await oap("encode", JSON.stringify(json));
  // header by hand: len 45, ver 1, flags 9, code 0, app 0, tenant all ones, cap_len 2, corr all ones
  expect(hex).toBe(`0000002d` + `0001` + `0009` + `0000` + `0000` + "ff".repeat(16) + `0002` + "ff".repeat(8) + "abcd" + "68656c6c6f");
  expect(JSON.parse(await oap("decode", hex))).toEqual({ len: 45, ver: 1, flags: 9, code: 0, app_proto_id: 0, tenant_id: json.tenant_id, cap_len: 2, corr_id: json.corr_id, cap: "abcd", payload: "68656c6c6f" });
});

it("prints one object per frame, and the error names of the spec", async () => {
  const one = await oap("encode", JSON.stringify({ flags: 1, payload: "01" }));
  expect((await oap("decode", one + one)).split("\n")).toHaveLength(2);
  expect(JSON.parse((await oap("decode", one.slice(0, 40))).split("\n").pop()!)).toMatchObject({ error: "NeedMore", message: "20 trailing bytes not a whole frame (a header is 38 bytes; its len says how many follow)" });
  expect(JSON.parse(await oap("decode", "00000028" + "0002" + "0001" + "00".repeat(30)))).toMatchObject({ error: "BadVersion", message: "version 2 is not 1" });
  expect(JSON.parse(await oap("decode", "00000028" + "0001" + "0101" + "00".repeat(30)))).toMatchObject({ error: "BadFlags" });
  expect(JSON.parse(await oap("encode", JSON.stringify({ flags: 1, cap: "00" })))).toMatchObject({ error: "CapOnNonStart" });
  expect(JSON.parse(await oap("decode", "00000000" + "0001" + "0001" + "00".repeat(30)))).toMatchObject({ error: "FrameTooLarge" });
});

it("encode is strict: an unknown key, a wrong type or a wrong computed field is refused with what is wrong (exit 1)", async () => {
  const refused = async (json: string) => {
    const result = await runOap("encode", json);
    expect(result.code).toBe(1);
    const line = JSON.parse(result.stdout);
    expect(line.error).toBe("Invalid");
    return line.message as string;
  };
  // a typo was silently a different frame (flags 0) before
  expect(await refused(JSON.stringify({ flag: 9 }))).toBe("unknown key \"flag\"; a frame's keys are len, ver, flags, code, app_proto_id, tenant_id, cap_len, corr_id, cap, payload");
  expect(await refused(JSON.stringify({ flags: 1, paylod: "00", x: 1 }))).toMatch(/^unknown keys "paylod", "x";/);
  expect(await refused(JSON.stringify({ flags: "9" }))).toBe('flags must be a whole number 0..65535, got "9"');
  expect(await refused(JSON.stringify({ code: 70000 }))).toBe("code must be a whole number 0..65535, got 70000");
  expect(await refused(JSON.stringify({ corr_id: "-1" }))).toMatch(/^corr_id must be a decimal string 0\.\.2\^64-1/);
  expect(await refused(JSON.stringify({ tenant_id: (1n << 128n).toString() }))).toMatch(/^tenant_id must be a decimal string 0\.\.2\^128-1/);
  expect(await refused(JSON.stringify({ payload: "abc" }))).toBe("payload: not hex: an odd number of digits (3)");
  expect(await refused(JSON.stringify({ payload: 12 }))).toBe("payload must be a hex string or null, got 12");
  expect(await refused(JSON.stringify({ flags: 1, payload: "01", len: 40 }))).toBe("len is 40 but the frame's is 39 (it is computed: leave it out)");
  expect(await refused("[1]")).toBe("a frame is a JSON object, got an array");
  expect(await refused("{flags:1}")).toMatch(/^not JSON: /);
});

it("decode's output is valid encode input (len and cap_len checked, not refused)", async () => {
  const hex = await oap("encode", JSON.stringify({ flags: 9, cap: "aa", payload: "bb", corr_id: "7" }));
  expect(await oap("encode", await oap("decode", hex))).toBe(hex);
});

it("decode says where the hex is wrong; bad usage exits 2 with the usage on stderr; help exits 0", async () => {
  expect(JSON.parse((await runOap("decode", "00zz")).stdout)).toEqual({ error: "Invalid", message: 'not hex: "z" at digit 3' });
  for (const args of [[], ["frobnicate", "00"], ["encode"], ["encode", "{}", "extra"]]) {
    const result = await runOap(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/usage: npm run -s oap -- decode <hex>/);
  }
  expect((await runOap("encode", "{}", "extra")).stderr).toMatch(/^encode takes one argument, got 2 \(quote the JSON\)/);
  const help = await runOap("help");
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/encode '<json>'/);
});

it("docs/OAP1.md's examples print what the page says they print", async () => {
  const doc = readFileSync(join(dirname(cli), "../docs/OAP1.md"), "utf8");
  const block = /^## 9\. Frames on the command line[\s\S]*?^```sh\n([\s\S]*?)^```/m.exec(doc)![1]!;
  const examples = [...block.matchAll(/^npm run -s oap -- (encode|decode) (?:'(.*)'|(\S+))\n# (.*)$/gm)];
  expect(examples.length).toBe(block.split("\n").filter((line) => line.startsWith("npm run")).length);
  expect(examples.length).toBeGreaterThanOrEqual(4);
  for (const [, command, quoted, bare, printed] of examples) expect(await oap(command!, (quoted ?? bare)!)).toBe(printed);
});
