/* rng.c: the one random number generator of training (base layer, so
 * artifacts share it): xoshiro256** seeded through splitmix64. Its whole
 * state is four words, saved in checkpoints, so a resumed run draws the
 * same numbers as one that never stopped. */
#include "ir.h"

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void fr_rng_seed(fr_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t fr_rng_u64(fr_rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double fr_rng_uniform(fr_rng *r) {
  return (double)(fr_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t fr_rng_below(fr_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  /* Rejection of the top partial range: no modulo bias. */
  uint64_t lim = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = fr_rng_u64(r);
  while (x >= lim);
  return x % n;
}

void fr_rng_shuffle(fr_rng *r, int *a, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)fr_rng_below(r, (uint64_t)i + 1);
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
