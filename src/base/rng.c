/* xoshiro256** seeded through splitmix64, as its authors recommend. */
#include "nabla/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nb_rng_seed(nb_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

uint64_t nb_rng_next(nb_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nb_rng_uniform(nb_rng *rng)
{
    /* the top 53 bits give every double in [0, 1) on a 2^-53 grid */
    return (double)(nb_rng_next(rng) >> 11) * 0x1.0p-53;
}

double nb_rng_normal(nb_rng *rng)
{
    /* 1 - u lies in (0, 1], so the log is finite */
    double u1 = 1.0 - nb_rng_uniform(rng);
    double u2 = nb_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

uint64_t nb_rng_below(nb_rng *rng, uint64_t n)
{
    /* rejection removes the modulo bias */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
        r = nb_rng_next(rng);
    } while (r >= limit);
    return r % n;
}

void nb_rng_shuffle(nb_rng *rng, int64_t *indices, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nb_rng_below(rng, (uint64_t)i + 1);
        int64_t tmp = indices[i];
        indices[i] = indices[j];
        indices[j] = tmp;
    }
}
