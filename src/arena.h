/* arena.h - a bump allocator for strings that live as long as their owner (a document, a
 * findings list). Private to src/. */
#ifndef PERFSHEET_ARENA_H
#define PERFSHEET_ARENA_H

#include <stddef.h>

typedef struct ps_arena {
    struct arena_chunk *head;
    size_t next; /* size of the next chunk: 512 bytes at first, doubling up to 8 KiB */
} ps_arena;

/* Copies n bytes of s plus a NUL; NULL on out-of-memory. s may be NULL when n is 0. */
char *ps_arena_strndup(ps_arena *a, const char *s, size_t n);
/* As ps_arena_strndup(s, strlen(s)); returns NULL for a NULL s. */
char *ps_arena_strdup(ps_arena *a, const char *s);
void *ps_arena_alloc(ps_arena *a, size_t n); /* aligned to 16 */
void ps_arena_release(ps_arena *a);          /* frees every chunk; the arena is empty again */

#endif
