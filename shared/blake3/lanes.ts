/**
 * @module The bulk work of BLAKE3 behind one small interface: chaining values of runs of whole
 * chunks, and of levels of parent nodes. The SIMD module (simd-lanes.ts) does them 4 at a time;
 * `ScalarLanes` does them one by one in JS (the reference the SIMD path is tested against).
 */
import { CHUNK_BYTES, OUT_BYTES, readWords, writeWords } from "./compress";
import { chunkOutput, parentOutput } from "./nodes";

export interface Blake3Lanes {
  /** Most chunks one `chunks` call takes (a power of two). */
  readonly maxChunks: number;
  /** Scratch CVs, 32 bytes each, `maxChunks` of them (for the SIMD module, a view of its memory). */
  readonly cvs: Uint8Array;
  /** CVs of the whole chunks of `input` (a multiple of 1024 bytes), the first at chunk `counter`, into `cvs[0..)`. */
  chunks(input: Uint8Array, counter: number, key: Uint32Array, flags: number): void;
  /** Parent CVs over the first `pairs` CV pairs of `cvs` (64 bytes each), into `cvs[0..32·pairs)`. */
  parents(pairs: number, key: Uint32Array, flags: number): void;
}

export class ScalarLanes implements Blake3Lanes {
  readonly maxChunks = 64;
  readonly cvs = new Uint8Array(this.maxChunks * OUT_BYTES);

  chunks(input: Uint8Array, counter: number, key: Uint32Array, flags: number): void {
    for (let i = 0; i * CHUNK_BYTES < input.length; i++) {
      const cv = chunkOutput(input.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), counter + i, key, flags).chainingValue();
      writeWords(cv, this.cvs, i * OUT_BYTES, OUT_BYTES);
    }
  }

  parents(pairs: number, key: Uint32Array, flags: number): void {
    const left = new Uint32Array(8);
    const right = new Uint32Array(8);
    for (let i = 0; i < pairs; i++) {
      readWords(this.cvs.subarray(64 * i, 64 * i + 32), left);
      readWords(this.cvs.subarray(64 * i + 32, 64 * i + 64), right);
      writeWords(parentOutput(left, right, key, flags).chainingValue(), this.cvs, i * OUT_BYTES, OUT_BYTES);
    }
  }
}
