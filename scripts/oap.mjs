#!/usr/bin/env node
// OAP/1 frames on the command line (docs/OAP1.md, "Frames on the command line"):
//   npm run -s oap -- decode <hex>     one JSON object per frame in the bytes
//   npm run -s oap -- encode '<json>'  the frame's hex (len and cap_len are computed)
//   npm run -s oap -- help
// A failure prints one line {"error":"<Name>","message":"<what is wrong>"} on stdout (Name is the
// codec's error, or Invalid for input that is not a frame) and exits 1; bad usage exits 2.
// The codec is the TypeScript in shared/oap, bundled on the fly (scripts/import-ts.mjs).
import { importTs } from "./import-ts.mjs";

const usage = `usage: npm run -s oap -- decode <hex>      frames in the bytes, one JSON object per line
       npm run -s oap -- encode '<json>'   a frame's hex; keys: ver flags code app_proto_id tenant_id corr_id cap payload
       npm run -s oap -- help`;

const [command, ...rest] = process.argv.slice(2);
if (command === "help" || command === "--help" || command === "-h") {
  console.log(usage);
  process.exit(0);
}
if (!["decode", "encode"].includes(command) || rest.length !== 1) {
  const why = command === undefined ? "no command" : !["decode", "encode"].includes(command) ? `unknown command ${JSON.stringify(command)}` : rest.length === 0 ? `${command} needs one argument` : `${command} takes one argument, got ${rest.length} (quote the ${command === "encode" ? "JSON" : "hex"})`;
  console.error(`${why}\n${usage}`);
  process.exit(2);
}

const oap = await importTs("shared/oap/codec.ts", "shared/oap/json.ts");
const fail = (error) => {
  console.log(JSON.stringify(oap.errorJson(error)));
  process.exitCode = 1;
};
const [argument] = rest;

if (command === "decode") {
  const decoder = new oap.FrameDecoder();
  try {
    const bytes = oap.hexToBytes(argument);
    for (const frame of decoder.push(bytes)) console.log(JSON.stringify(oap.frameToJson(frame)));
    if (bytes.length === 0) fail(new oap.OapError("NeedMore", "no bytes: give a frame's hex"));
    else if (decoder.buffered > 0) fail(new oap.OapError("NeedMore", `${decoder.buffered} trailing byte${decoder.buffered === 1 ? "" : "s"} not a whole frame (a header is ${oap.HEADER_LEN} bytes; its len says how many follow)`));
  } catch (error) {
    fail(error);
  }
} else {
  let json;
  try {
    json = JSON.parse(argument);
  } catch (error) {
    fail(new Error(`not JSON: ${error.message}`));
  }
  if (json !== undefined) {
    try {
      console.log([...oap.encodeFrame(oap.frameFromJson(json))].map((b) => b.toString(16).padStart(2, "0")).join(""));
    } catch (error) {
      fail(error);
    }
  }
}
