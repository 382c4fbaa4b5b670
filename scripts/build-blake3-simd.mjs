// Writes shared/blake3/blake3-simd.wasm: BLAKE3 over WASM SIMD128, 4 chunks (or 4 parent nodes) per
// pass, one lane each. The module is generated here as WAT text (every round unrolled from the
// spec's message schedule) and assembled with wabt from node_modules, so no binary is kept in git
// and the build needs only the lock file. workerd refuses to compile WASM at run time, so the
// worker imports the file as a compiled module. Runs on postinstall (scripts/postinstall.mjs).
//
// Memory layout (the JS side reads the addresses from the exported globals):
//   KEY   32 bytes, the key words (IV for plain hashing)
//   CVS   32·MAX_CHUNKS bytes, chaining values out (and parent pairs in, merged in place)
//   INPUT 1024·MAX_CHUNKS bytes, whole chunks in
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "shared/blake3/blake3-simd.wasm");
const require = createRequire(import.meta.url);

const MAX_CHUNKS = 256;
const KEY = 0;
const CVS = 1024;
const INPUT = CVS + 32 * MAX_CHUNKS + 7168; // 16 KiB: input blocks start on a 1 KiB boundary
const PAGES = Math.ceil((INPUT + 1024 * MAX_CHUNKS) / 65536);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const PARENT = 4;

const range = (n) => Array.from({ length: n }, (_, i) => i);
const get = (name) => `(local.get $${name})`;
const set = (name, value) => `(local.set $${name} ${value})`;
const i32 = (n) => `(i32.const ${n | 0})`;
/** 32-bit lanes of `x` (0..3) and `y` (4..7), picked by `words`, as one byte shuffle. */
const shuffle32 = (x, y, words) => `(i8x16.shuffle ${words.flatMap((w) => range(4).map((b) => w * 4 + b)).join(" ")} ${x} ${y})`;
/** Rotate each 32-bit lane right by 16 or 8: a byte shuffle. */
const rotrBytes = (x, bytes) => `(i8x16.shuffle ${range(4).flatMap((w) => range(4).map((b) => w * 4 + ((b + bytes) % 4))).join(" ")} ${x} ${x})`;
/** Rotate right by 12 or 7: shifts (the operand is parked in $t to use it twice). */
const rotrShift = (x, n) => `(v128.or (i32x4.shr_u (local.tee $t ${x}) ${i32(n)}) (i32x4.shl (local.get $t) ${i32(32 - n)}))`;

function g(a, b, c, d, mx, my) {
  const s = (i) => `s${i}`;
  return [
    set(s(a), `(i32x4.add (i32x4.add ${get(s(a))} ${get(s(b))}) ${get(`m${mx}`)})`),
    set(s(d), rotrBytes(`(v128.xor ${get(s(d))} ${get(s(a))})`, 2)),
    set(s(c), `(i32x4.add ${get(s(c))} ${get(s(d))})`),
    set(s(b), rotrShift(`(v128.xor ${get(s(b))} ${get(s(c))})`, 12)),
    set(s(a), `(i32x4.add (i32x4.add ${get(s(a))} ${get(s(b))}) ${get(`m${my}`)})`),
    set(s(d), rotrBytes(`(v128.xor ${get(s(d))} ${get(s(a))})`, 1)),
    set(s(c), `(i32x4.add ${get(s(c))} ${get(s(d))})`),
    set(s(b), rotrShift(`(v128.xor ${get(s(b))} ${get(s(c))})`, 7)),
  ];
}

function rounds() {
  const out = [];
  let order = range(16);
  for (let r = 0; r < 7; r++) {
    const m = order;
    out.push(...g(0, 4, 8, 12, m[0], m[1]), ...g(1, 5, 9, 13, m[2], m[3]), ...g(2, 6, 10, 14, m[4], m[5]), ...g(3, 7, 11, 15, m[6], m[7]));
    out.push(...g(0, 5, 10, 15, m[8], m[9]), ...g(1, 6, 11, 12, m[10], m[11]), ...g(2, 7, 8, 13, m[12], m[13]), ...g(3, 4, 9, 14, m[14], m[15]));
    order = PERMUTATION.map((p) => order[p]);
  }
  return out;
}

/** Transpose 4×4 words: rows a,b,c,d (expressions) into locals `outs` (columns). */
function transpose([a, b, c, d], outs) {
  return [
    set("t0", shuffle32(a, b, [0, 4, 1, 5])),
    set("t1", shuffle32(a, b, [2, 6, 3, 7])),
    set("t2", shuffle32(c, d, [0, 4, 1, 5])),
    set("t3", shuffle32(c, d, [2, 6, 3, 7])),
    set(outs[0], shuffle32(get("t0"), get("t2"), [0, 1, 4, 5])),
    set(outs[1], shuffle32(get("t0"), get("t2"), [2, 3, 6, 7])),
    set(outs[2], shuffle32(get("t1"), get("t3"), [0, 1, 4, 5])),
    set(outs[3], shuffle32(get("t1"), get("t3"), [2, 3, 6, 7])),
  ];
}

const hash4 = `
  ;; Four BLAKE3 nodes at once, lane i reading \`blocks\` 64-byte blocks at $pi and writing its
  ;; 32-byte CV at $oi if i < $valid. Lane counters are the vectors $lo/$hi; the first block also
  ;; gets flag $fs, the last $fe.
  (func $hash4 (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32)
               (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32) (param $valid i32)
               (param $blocks i32) (param $lo v128) (param $hi v128) (param $flags i32) (param $fs i32) (param $fe i32)
    ${range(8).map((i) => `(local $h${i} v128)`).join(" ")}
    ${range(16).map((i) => `(local $s${i} v128)`).join(" ")}
    ${range(16).map((i) => `(local $m${i} v128)`).join(" ")}
    (local $t v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $b i32) (local $f i32)
    ${range(8).map((i) => set(`h${i}`, `(v128.load32_splat offset=${KEY + 4 * i} (i32.const 0))`)).join("\n    ")}
    (loop $block
      ${range(4).flatMap((q) => transpose(range(4).map((lane) => `(v128.load offset=${16 * q} (i32.add (local.get $p${lane}) (i32.shl (local.get $b) (i32.const 6))))`), range(4).map((k) => `m${4 * q + k}`))).join("\n      ")}
      (local.set $f (local.get $flags))
      (if (i32.eqz (local.get $b)) (then (local.set $f (i32.or (local.get $f) (local.get $fs)))))
      (if (i32.eq (local.get $b) (i32.sub (local.get $blocks) (i32.const 1))) (then (local.set $f (i32.or (local.get $f) (local.get $fe)))))
      ${range(8).map((i) => set(`s${i}`, get(`h${i}`))).join(" ")}
      ${range(4).map((i) => set(`s${8 + i}`, `(v128.const i32x4 ${Array(4).fill(IV[i] | 0).join(" ")})`)).join(" ")}
      ${set("s12", get("lo"))} ${set("s13", get("hi"))}
      ${set("s14", "(v128.const i32x4 64 64 64 64)")} ${set("s15", "(i32x4.splat (local.get $f))")}
      ${rounds().join("\n      ")}
      ${range(8).map((i) => set(`h${i}`, `(v128.xor ${get(`s${i}`)} ${get(`s${i + 8}`)})`)).join(" ")}
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $block (i32.lt_u (local.get $b) (local.get $blocks))))
    ${transpose(range(4).map((i) => get(`h${i}`)), ["m0", "m1", "m2", "m3"]).join("\n    ")}
    ${transpose(range(4).map((i) => get(`h${4 + i}`)), ["m4", "m5", "m6", "m7"]).join("\n    ")}
    ${range(4).map((lane) => `(if (i32.gt_u (local.get $valid) (i32.const ${lane})) (then (v128.store (local.get $o${lane}) (local.get $m${lane})) (v128.store offset=16 (local.get $o${lane}) (local.get $m${4 + lane}))))`).join("\n    ")}
  )`;

const lanePointers = (base, stride, count) => range(4).map((lane) => `(i32.add (i32.const ${base}) (i32.mul (i32.const ${stride}) (select (i32.add (local.get $i) (i32.const ${lane})) (i32.sub ${count} (i32.const 1)) (i32.lt_u (i32.add (local.get $i) (i32.const ${lane})) ${count}))))`).join(" ");
const outPointers = () => range(4).map((lane) => `(i32.add (i32.const ${CVS}) (i32.shl (i32.add (local.get $i) (i32.const ${lane})) (i32.const 5)))`).join(" ");

const wat = `(module
  (memory (export "memory") ${PAGES})
  (global (export "KEY") i32 (i32.const ${KEY}))
  (global (export "CVS") i32 (i32.const ${CVS}))
  (global (export "INPUT") i32 (i32.const ${INPUT}))
  (global (export "MAX_CHUNKS") i32 (i32.const ${MAX_CHUNKS}))
  ${hash4}

  ;; CVs of the $n whole chunks at INPUT (chunk counters from $ctrLo/$ctrHi up) into CVS.
  (func (export "chunks") (param $n i32) (param $ctrLo i32) (param $ctrHi i32) (param $flags i32)
    (local $i i32) (local $lo v128)
    (block $done (loop $group
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $lo (i32x4.add (i32x4.splat (local.get $ctrLo)) (i32x4.add (i32x4.splat (local.get $i)) (v128.const i32x4 0 1 2 3))))
      (call $hash4 ${lanePointers(INPUT, 1024, "(local.get $n)")} ${outPointers()}
        (i32.sub (local.get $n) (local.get $i)) (i32.const 16)
        (local.get $lo)
        ;; the high word takes the carry where the low word wrapped (i32x4.lt_u gives -1)
        (i32x4.sub (i32x4.splat (local.get $ctrHi)) (i32x4.lt_u (local.get $lo) (i32x4.splat (local.get $ctrLo))))
        (local.get $flags) (i32.const 1) (i32.const 2))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $group))))

  ;; Parent CVs over the first $pairs CV pairs at CVS, in place (pair i → slot i).
  (func (export "parents") (param $pairs i32) (param $flags i32)
    (local $i i32)
    (block $done (loop $group
      (br_if $done (i32.ge_u (local.get $i) (local.get $pairs)))
      (call $hash4 ${lanePointers(CVS, 64, "(local.get $pairs)")} ${outPointers()}
        (i32.sub (local.get $pairs) (local.get $i)) (i32.const 1)
        (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0)
        (i32.or (local.get $flags) (i32.const ${PARENT})) (i32.const 0) (i32.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $group))))
)`;

const wabt = await require("wabt")();
const module = wabt.parseWat("blake3-simd.wat", wat, { simd: true, multi_value: true });
module.validate();
const bytes = Buffer.from(module.toBinary({}).buffer);
module.destroy();
if (process.env.BLAKE3_SIMD_WAT) writeFileSync(process.env.BLAKE3_SIMD_WAT, wat);
if (!existsSync(target) || !readFileSync(target).equals(bytes)) writeFileSync(target, bytes);
