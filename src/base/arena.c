/* Bump allocator in a list of blocks; rewind keeps the blocks for reuse. */
#include <stdalign.h>
#include <string.h>

#include "internal.h"

#define ARENA_ALIGN 64
#define ARENA_MIN_BLOCK ((size_t)1 << 20)

struct nb_arena_block {
    nb_arena_block *next;
    size_t capacity;
    size_t used;
    alignas(ARENA_ALIGN) unsigned char data[];
};

static nb_arena_block *block_new(size_t capacity)
{
    /* over-allocate so data can be aligned even if the allocator is not */
    nb_arena_block *b = nb_alloc(sizeof *b + capacity);
    if (!b)
        return NULL;
    b->next = NULL;
    b->capacity = capacity;
    b->used = 0;
    return b;
}

static size_t align_up(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

static void *block_take(nb_arena_block *b, size_t bytes)
{
    /* blocks from malloc are at least 16-aligned; align the address itself */
    uintptr_t base = (uintptr_t)b->data;
    uintptr_t start = (base + b->used + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    size_t end = (size_t)(start - base) + bytes;
    if (end > b->capacity)
        return NULL;
    b->used = end;
    return (void *)start;
}

void *nb_arena_alloc(nb_arena *arena, size_t bytes)
{
    bytes = align_up(bytes ? bytes : 1);
    /* walk the kept blocks first: after a rewind they are all empty */
    for (nb_arena_block *b = arena->current; b; b = b->next) {
        void *p = block_take(b, bytes);
        if (p) {
            arena->current = b;
            return p;
        }
    }
    size_t capacity = arena->reserved > ARENA_MIN_BLOCK ? arena->reserved : ARENA_MIN_BLOCK;
    if (capacity < bytes + ARENA_ALIGN)
        capacity = bytes + ARENA_ALIGN;
    nb_arena_block *b = block_new(capacity);
    if (!b)
        return NULL;
    /* append at the end so the block order stays the allocation order */
    nb_arena_block **tail = &arena->first;
    while (*tail)
        tail = &(*tail)->next;
    *tail = b;
    arena->reserved += capacity;
    arena->current = b;
    return block_take(b, bytes);
}

void nb_arena_rewind(nb_arena *arena)
{
    for (nb_arena_block *b = arena->first; b; b = b->next)
        b->used = 0;
    arena->current = arena->first;
}

void nb_arena_destroy(nb_arena *arena)
{
    nb_arena_block *b = arena->first;
    while (b) {
        nb_arena_block *next = b->next;
        nb_release(b);
        b = next;
    }
    memset(arena, 0, sizeof *arena);
}
