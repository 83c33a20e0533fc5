/* nabla/rng.h: a small seeded random generator (xoshiro256**).
 *
 * Everything random in nabla (initializers, dropout masks, shuffling) takes an
 * nb_rng, so the same seed gives the same numbers on every machine. */
#ifndef NABLA_RNG_H
#define NABLA_RNG_H

#include <stdint.h>

typedef struct nb_rng {
    uint64_t s[4];
} nb_rng;

/* Seed the generator; any seed (including 0) is valid. */
void nb_rng_seed(nb_rng *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t nb_rng_next(nb_rng *rng);

/* A uniform double in [0, 1). */
double nb_rng_uniform(nb_rng *rng);

/* A normal deviate with mean 0 and standard deviation 1 (Box-Muller). */
double nb_rng_normal(nb_rng *rng);

/* A uniform integer in [0, n); n must be > 0. */
uint64_t nb_rng_below(nb_rng *rng, uint64_t n);

/* Shuffle indices[0..n) in place (Fisher-Yates). */
void nb_rng_shuffle(nb_rng *rng, int64_t *indices, int64_t n);

#endif
