import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const cli = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/oap.mjs");
const oap = async (...args: string[]) => {
  try {
    return (await run(process.execPath, [cli, ...args])).stdout.trim();
  } catch (error) {
    return ((error as { stdout: string }).stdout ?? "").trim();
  }
};

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
  expect(JSON.parse((await oap("decode", one.slice(0, 40))).split("\n").pop()!)).toEqual({ error: "NeedMore" });
  expect(JSON.parse(await oap("decode", "00000028" + "0002" + "0001" + "00".repeat(30)))).toEqual({ error: "BadVersion" });
  expect(JSON.parse(await oap("decode", "00000028" + "0001" + "0101" + "00".repeat(30)))).toEqual({ error: "BadFlags" });
  expect(JSON.parse(await oap("encode", JSON.stringify({ flags: 1, cap: "00" })))).toEqual({ error: "CapOnNonStart" });
  expect(JSON.parse(await oap("decode", "00000000" + "0001" + "0001" + "00".repeat(30)))).toEqual({ error: "FrameTooLarge" });
});
