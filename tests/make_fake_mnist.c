/* make_fake_mnist DIR [N_TRAIN N_TEST]: write a tiny MNIST-format data set
 * (gzip IDX files) into DIR, for end-to-end tests of the example programs
 * that must not depend on the real data. Each class is a bright bar at its
 * own position plus noise, so a model can learn it in one epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nabla/rng.h"

static int write_idx(const char *dir, const char *name, const unsigned char *header,
                     size_t header_len, const unsigned char *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    gzFile f = gzopen(path, "wb");
    if (!f || gzwrite(f, header, (unsigned)header_len) != (int)header_len ||
        gzwrite(f, data, (unsigned)len) != (int)len || gzclose(f) != Z_OK) {
        fprintf(stderr, "make_fake_mnist: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static void be32(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static int write_split(const char *dir, const char *prefix, unsigned n, nb_rng *rng)
{
    unsigned char *images = malloc((size_t)n * 784), *labels = malloc(n);
    if (!images || !labels)
        return 1;
    for (unsigned i = 0; i < n; i++) {
        unsigned label = (unsigned)nb_rng_below(rng, 10);
        labels[i] = (unsigned char)label;
        for (unsigned p = 0; p < 784; p++) {
            unsigned row = p / 28;
            unsigned bright = row >= 2 + 2 * label && row < 4 + 2 * label ? 200 : 0;
            images[(size_t)i * 784 + p] = (unsigned char)(bright + nb_rng_below(rng, 50));
        }
    }
    unsigned char image_header[16] = {0, 0, 8, 3}, label_header[8] = {0, 0, 8, 1};
    be32(image_header + 4, n), be32(image_header + 8, 28), be32(image_header + 12, 28);
    be32(label_header + 4, n);
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    int rc = write_idx(dir, name, image_header, 16, images, (size_t)n * 784);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    rc |= write_idx(dir, name, label_header, 8, labels, n);
    free(images);
    free(labels);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: make_fake_mnist DIR [N_TRAIN N_TEST]\n");
        return 2;
    }
    unsigned n_train = argc == 4 ? (unsigned)atoi(argv[2]) : 2000;
    unsigned n_test = argc == 4 ? (unsigned)atoi(argv[3]) : 500;
    nb_rng rng;
    nb_rng_seed(&rng, 7);
    return write_split(argv[1], "train", n_train, &rng) | write_split(argv[1], "t10k", n_test, &rng);
}
