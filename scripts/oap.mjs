#!/usr/bin/env node
// npm run oap -- decode <hex>     one JSON object per frame, or {"error":"<Name>"}
// npm run oap -- encode '<json>'  the frame's hex (len and cap_len are computed)
// The codec is the TypeScript in shared/oap, bundled on the fly (scripts/import-ts.mjs).
import { importTs } from "./import-ts.mjs";

const oap = await importTs("shared/oap/codec.ts", "shared/oap/json.ts");
const [command, argument] = process.argv.slice(2);
if (command === "decode" && argument !== undefined) {
  let bytes;
  try {
    bytes = oap.hexToBytes(argument);
  } catch {
    console.log(JSON.stringify({ error: "Invalid" }));
    process.exit(1);
  }
  const decoder = new oap.FrameDecoder();
  try {
    for (const frame of decoder.push(bytes)) console.log(JSON.stringify(oap.frameToJson(frame)));
    if (decoder.buffered > 0 || bytes.length === 0) {
      console.log(JSON.stringify({ error: "NeedMore" }));
      process.exitCode = 1;
    }
  } catch (error) {
    console.log(JSON.stringify(oap.errorJson(error)));
    process.exitCode = 1;
  }
} else if (command === "encode" && argument !== undefined) {
  try {
    const bytes = oap.encodeFrame(oap.frameFromJson(JSON.parse(argument)));
    console.log([...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""));
  } catch (error) {
    console.log(JSON.stringify(oap.errorJson(error)));
    process.exitCode = 1;
  }
} else {
  console.error("usage: npm run oap -- decode <hex> | encode '<json>'");
  process.exitCode = 2;
}
