// Native BLAKE3 throughput for `BLAKE3_NATIVE_BENCH` (load/bench/run.mjs, docs/PERFORMANCE.md): the official C
// implementation, not part of the project; build it against a checkout of github.com/BLAKE3-team/BLAKE3 `c/`.
// Wall-clock, best of 5 rounds of 0.2 s, single thread; prints "<size> <MiB/s>" lines.
#include "blake3.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double cpu_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  size_t sizes[] = {4096, 65536, 1 << 20, 64 << 20};
  unsigned char *buf = malloc(64 << 20); for (size_t i = 0; i < (64u << 20); i++) buf[i] = (unsigned char)(i * 7);
  uint8_t out[32];
  for (int s = 0; s < 4; s++) {
    double best = 0;
    for (int r = 0; r < 5; r++) {
      size_t it = 0; double t0 = cpu_s(), t;
      do { blake3_hasher h; blake3_hasher_init(&h); blake3_hasher_update(&h, buf, sizes[s]); blake3_hasher_finalize(&h, out, 32); it++; } while ((t = cpu_s() - t0) < 0.2);
      double mibs = (double)sizes[s] * it / (1 << 20) / t; if (mibs > best) best = mibs;
    }
    printf("%zu %.0f\n", sizes[s], best);
  }
  return out[0] == 255;
}
