#!/usr/bin/env node
// Capability tokens (docs/SECURITY.md). Each command prints one line.
//   npm run -s cap -- mint [--op OP]... [--prefix P] [--topic T] [--ttl SECONDS] [--max-bytes N]
//   npm run -s cap -- attenuate <token> [--op OP]... [--prefix P] [--topic T] [--ttl SECONDS] [--max-bytes N]
//   npm run -s cap -- inspect <token>      its identifier and caveats as JSON (signature not checked)
// mint needs the root key: CAP_ROOT_KEY, else the local key `npm start` created in .ron/.
// Without --op a minted token allows every op.
import { parseArgs } from "node:util";
import { importTs } from "./import-ts.mjs";
import { rootKeyText } from "./local-dev.mjs";

const usage = `usage: npm run -s cap -- mint [--op OP]... [--prefix P] [--topic T] [--ttl SECONDS] [--max-bytes N]
       npm run -s cap -- attenuate <token> [--op OP]... [--prefix P] [--topic T] [--ttl SECONDS] [--max-bytes N]
       npm run -s cap -- inspect <token>`;

function fail(message, code = 2) {
  console.error(message);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { op: { type: "string", multiple: true }, prefix: { type: "string" }, topic: { type: "string" }, ttl: { type: "string" }, "max-bytes": { type: "string" } },
  });
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
const { values, positionals } = parsed;
const [command, token] = positionals;
if (!["mint", "attenuate", "inspect"].includes(command) || (command !== "mint" && !token) || positionals.length > (command === "mint" ? 1 : 2)) fail(usage);

const cap = await importTs("shared/capability/index.ts");

function wholeNumber(name, text) {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) fail(`--${name} must be a whole number ≥ 1 (got ${JSON.stringify(text)})`);
  return Number(text);
}

function specOf() {
  const ops = values.op?.flatMap((op) => op.split(",")).filter(Boolean);
  for (const op of ops ?? []) if (!cap.isCapabilityOp(op)) fail(`unknown op ${JSON.stringify(op)}; ops: ${cap.CAPABILITY_OPS.join(", ")}`);
  const ttl = wholeNumber("ttl", values.ttl);
  return {
    ops,
    prefix: values.prefix,
    topic: values.topic,
    expires: ttl === undefined ? undefined : Math.floor(Date.now() / 1000) + ttl,
    maxBytes: wholeNumber("max-bytes", values["max-bytes"]),
  };
}

try {
  if (command === "inspect") {
    const { identifier, location, caveats, grant } = cap.inspectToken(token);
    console.log(JSON.stringify({ identifier, location, caveats, allows: cap.grantJson(grant) }));
  } else if (command === "attenuate") {
    console.log(cap.attenuateToken(token, specOf()));
  } else {
    const keyText = rootKeyText();
    if (!keyText) fail("no root key: set CAP_ROOT_KEY (hex or base64, ≥ 32 bytes), or run `npm start` once to create a local one", 1);
    const bytes = cap.decodeRootKey(keyText);
    if (typeof bytes === "string") fail(`CAP_ROOT_KEY ${bytes}`, 1);
    console.log(cap.mintToken(cap.rootKeyOf(bytes), specOf()));
  }
} catch (error) {
  fail(`${command}: ${error.message}`, 1);
}
