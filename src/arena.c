/* arena.c - chunked bump allocation; see arena.h. */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    _Alignas(16) char data[];
};

void *ps_arena_alloc(ps_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t want = a->next ? a->next : 512;
        if (want < 8192)
            a->next = want * 2;
        size_t size = n > want ? n : want;
        struct arena_chunk *nc = malloc(sizeof *nc + size);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->size = size;
        nc->next = c;
        a->head = nc;
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *ps_arena_strndup(ps_arena *a, const char *s, size_t n)
{
    char *p = ps_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ps_arena_strdup(ps_arena *a, const char *s)
{
    return s ? ps_arena_strndup(a, s, strlen(s)) : NULL;
}

void ps_arena_release(ps_arena *a)
{
    for (struct arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->next = 0;
}
