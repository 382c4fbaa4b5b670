#!/usr/bin/env node
// npm run -s b3 -- <file>...   the content address of each file, `b3:<hex>` one per line (stdin
// when no file is given): the address `POST /put` answers with and `GET /o/<address>` serves.
// Same BLAKE3 as the SDK (@noble/hashes), so a fresh clone needs no b3sum.
import { createReadStream } from "node:fs";
import { blake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** `b3:<hex>` of a stream's bytes, read in chunks so a large file is never held whole. */
async function addressOf(stream) {
  const hash = blake3.create();
  for await (const chunk of stream) hash.update(chunk);
  return `b3:${bytesToHex(hash.digest())}`;
}

const files = process.argv.slice(2);
if (files.some((file) => file.startsWith("-") && file !== "-")) {
  console.error("usage: npm run -s b3 -- [file...]   (no file or - reads stdin)");
  process.exit(2);
}
for (const file of files.length ? files : ["-"]) {
  try {
    console.log(await addressOf(file === "-" ? process.stdin : createReadStream(file)));
  } catch (error) {
    console.error(`b3: ${file}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
    process.exitCode = 1;
  }
}
