/* cfb.c - streams out of a compound file (MS-CFB); see cfb.h. Layout: a 512-byte header, then
 * sectors of 2^shift bytes; sector n starts at (n + 1) << shift. The FAT (its sectors listed
 * by the header's 109 DIFAT slots and then a DIFAT chain) links each sector to the next of its
 * stream; the directory is a chain of 128-byte entries forming red-black trees of siblings;
 * streams under the cutoff (4096 bytes) live in 64-byte mini sectors of the root entry's
 * stream, linked by the mini FAT. Every chain is bounded by the size of its table, so no
 * input can loop, and every sector is checked against the end of the file. */
#include "cfb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAXREGSECT = 0xFFFFFFFA, /* above: special values (free, end of chain, FAT, DIFAT) */
    NOSTREAM = 0xFFFFFFFF,
    DIR_ENTRY = 128,
    TYPE_STORAGE = 1,
    TYPE_STREAM = 2,
    TYPE_ROOT = 5,
};

typedef struct dir_entry {
    char name[96]; /* UTF-8: at most 31 UTF-16 units */
    uint8_t type;
    uint32_t left, right, child, start;
    uint64_t size;
} dir_entry;

struct cfb {
    const uint8_t *data;
    size_t len;
    unsigned shift, mini_shift;
    size_t ssize;    /* sector size */
    uint32_t cutoff; /* streams smaller than this are in the mini stream */
    uint32_t *fat;
    size_t nfat;
    uint32_t *minifat;
    size_t nminifat;
    dir_entry *dir;
    size_t ndir;
    size_t *root; /* the root storage's children (indexes into dir), in tree order */
    size_t nroot;
    uint8_t *mini; /* the mini stream, read when a small stream is first asked for */
    size_t mini_len;
    bool mini_read;
};

static uint16_t u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *why, size_t size, const char *fmt, ...)
{
    if (why && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* The first `need` bytes of sector s: NULL when they do not lie inside the file. (A stream's
 * last sector may be cut short at the end of the file: writers do not always pad it.) */
static const uint8_t *sector_bytes(const cfb *c, uint32_t s, size_t need)
{
    size_t off = ((size_t)s + 1) << c->shift;
    if (s > MAXREGSECT || off > c->len || c->len - off < need)
        return NULL;
    return c->data + off;
}

/* Sector s, whole (FAT, DIFAT and directory sectors). */
static const uint8_t *sector(const cfb *c, uint32_t s)
{
    return sector_bytes(c, s, c->ssize);
}

/* Copies size bytes of the chain starting at `start` (regular or mini sectors, linked by
 * `table`) into out. A chain that visits a sector twice is damage, even when the bytes it
 * gathers would add up. */
static bool read_chain(const cfb *c, const uint32_t *table, size_t ntable, bool mini, uint32_t start,
                       uint64_t size, uint8_t *out, char *why, size_t ws)
{
    const char *kind = mini ? "mini sector" : "sector";
    size_t block = mini ? (size_t)1 << c->mini_shift : c->ssize;
    uint8_t *seen = size ? calloc(ntable / 8 + 1, 1) : NULL;
    if (size && !seen)
        return fail(why, ws, "out of memory");
    uint64_t done = 0;
    bool ok = true;
    for (uint32_t s = start; ok && done < size; s = table[s]) {
        if (s >= ntable) {
            ok = fail(why, ws, "%s chain ends after %llu of %llu bytes", kind, (unsigned long long)done,
                      (unsigned long long)size);
            break;
        }
        if (seen[s / 8] & (1u << (s % 8))) {
            ok = fail(why, ws, "%s chain loops", kind);
            break;
        }
        seen[s / 8] |= (uint8_t)(1u << (s % 8));
        size_t take = size - done < block ? (size_t)(size - done) : block;
        const uint8_t *p;
        if (mini) {
            size_t off = (size_t)s << c->mini_shift;
            p = off < c->mini_len && c->mini_len - off >= take ? c->mini + off : NULL;
        } else {
            p = sector_bytes(c, s, take);
        }
        if (!p) {
            ok = fail(why, ws, "%s %u lies beyond the end of the %s", kind, s, mini ? "mini stream" : "file");
            break;
        }
        memcpy(out + done, p, take);
        done += take;
    }
    free(seen);
    return ok;
}

/* The FAT: its sectors are listed in the header's 109 DIFAT slots, then in a chain of DIFAT
 * sectors (each ends with the next one's number). */
static bool load_fat(cfb *c, char *why, size_t ws)
{
    const uint8_t *h = c->data;
    uint32_t nfatsect = u32(h + 0x2C), difat = u32(h + 0x44);
    size_t nsectors = c->len >> c->shift; /* the file cannot hold more */
    if (nfatsect == 0 || nfatsect > nsectors)
        return fail(why, ws, "%u FAT sectors in a file of %zu sectors", nfatsect, nsectors);
    size_t per = c->ssize / 4;
    c->nfat = (size_t)nfatsect * per;
    c->fat = malloc(c->nfat * sizeof *c->fat);
    uint32_t *list = malloc((size_t)nfatsect * sizeof *list);
    if (!c->fat || !list) {
        free(list);
        return fail(why, ws, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < 109 && n < nfatsect; i++)
        list[n++] = u32(h + 0x4C + 4 * i);
    for (size_t steps = 0; n < nfatsect; steps++) {
        const uint8_t *d = steps < nsectors ? sector(c, difat) : NULL;
        if (!d) {
            free(list);
            return fail(why, ws, "DIFAT chain broken after %zu of %u FAT sectors", n, nfatsect);
        }
        for (size_t i = 0; i + 1 < per && n < nfatsect; i++)
            list[n++] = u32(d + 4 * i);
        difat = u32(d + c->ssize - 4);
    }
    for (size_t k = 0; k < nfatsect; k++) {
        const uint8_t *s = sector(c, list[k]);
        if (!s) {
            uint32_t bad = list[k];
            free(list);
            return fail(why, ws, "FAT sector %u lies beyond the end of the file", bad);
        }
        for (size_t i = 0; i < per; i++)
            c->fat[k * per + i] = u32(s + 4 * i);
    }
    free(list);
    return true;
}

/* The length of the chain starting at s, bounded by the table (0 when it is broken). */
static size_t chain_length(const uint32_t *table, size_t ntable, uint32_t s)
{
    size_t n = 0;
    for (; s < ntable; s = table[s])
        if (++n > ntable)
            return 0;
    return s == 0xFFFFFFFE ? n : 0; /* ENDOFCHAIN */
}

static void utf16_name(const uint8_t *p, size_t bytes, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < bytes; i += 2) {
        uint32_t u = u16(p + i);
        if (u == 0)
            break;
        if (u >= 0xD800 && u <= 0xDFFF)
            u = 0xFFFD; /* names are short and BMP; a lone surrogate is damage */
        char b[3];
        size_t k;
        if (u < 0x80)
            b[0] = (char)u, k = 1;
        else if (u < 0x800)
            b[0] = (char)(0xC0 | u >> 6), b[1] = (char)(0x80 | (u & 0x3F)), k = 2;
        else
            b[0] = (char)(0xE0 | u >> 12), b[1] = (char)(0x80 | (u >> 6 & 0x3F)),
            b[2] = (char)(0x80 | (u & 0x3F)), k = 3;
        if (o + k >= size)
            break;
        memcpy(out + o, b, k);
        o += k;
    }
    out[o] = '\0';
}

static bool load_directory(cfb *c, uint32_t first, bool v3, char *why, size_t ws)
{
    size_t nsect = chain_length(c->fat, c->nfat, first);
    if (nsect == 0)
        return fail(why, ws, "directory chain broken");
    size_t per = c->ssize / DIR_ENTRY;
    c->ndir = nsect * per;
    c->dir = calloc(c->ndir, sizeof *c->dir);
    if (!c->dir)
        return fail(why, ws, "out of memory");
    size_t k = 0;
    for (uint32_t s = first; k < c->ndir; s = c->fat[s]) {
        const uint8_t *p = sector(c, s);
        if (!p)
            return fail(why, ws, "directory sector %u lies beyond the end of the file", s);
        for (size_t i = 0; i < per; i++, k++) {
            const uint8_t *e = p + i * DIR_ENTRY;
            dir_entry *d = &c->dir[k];
            size_t name_bytes = u16(e + 0x40);
            utf16_name(e, name_bytes < 64 ? name_bytes : 64, d->name, sizeof d->name);
            d->type = e[0x42];
            d->left = u32(e + 0x44);
            d->right = u32(e + 0x48);
            d->child = u32(e + 0x4C);
            d->start = u32(e + 0x74);
            d->size = v3 ? u32(e + 0x78) : (uint64_t)u32(e + 0x78) | (uint64_t)u32(e + 0x7C) << 32;
        }
    }
    if (c->dir[0].type != TYPE_ROOT && c->dir[0].type != TYPE_STORAGE)
        return fail(why, ws, "the first directory entry is not the root");
    return true;
}

/* The root's children: the tree under its child, in order, each entry at most once. */
static bool list_root(cfb *c, char *why, size_t ws)
{
    size_t *stack = malloc(c->ndir * sizeof *stack);
    uint8_t *seen = calloc(c->ndir, 1);
    c->root = malloc(c->ndir * sizeof *c->root);
    if (!stack || !seen || !c->root) {
        free(stack);
        free(seen);
        return fail(why, ws, "out of memory");
    }
    size_t depth = 0;
    uint32_t node = c->dir[0].child;
    seen[0] = 1;
    while (depth > 0 || (node < c->ndir && !seen[node])) {
        while (node < c->ndir && !seen[node]) { /* down the left spine */
            seen[node] = 1;
            stack[depth++] = node;
            node = c->dir[node].left;
        }
        if (depth == 0)
            break;
        size_t i = stack[--depth];
        if (c->dir[i].type == TYPE_STREAM || c->dir[i].type == TYPE_STORAGE)
            c->root[c->nroot++] = i;
        node = c->dir[i].right;
    }
    free(stack);
    free(seen);
    return true;
}

cfb *ps_cfb_open(const uint8_t *data, size_t len, char *why, size_t ws)
{
    static const uint8_t magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (len < 512 || memcmp(data, magic, 8) != 0) {
        fail(why, ws, len < 512 ? "file shorter than a compound file header" : "no compound file signature");
        return NULL;
    }
    cfb *c = calloc(1, sizeof *c);
    if (!c) {
        fail(why, ws, "out of memory");
        return NULL;
    }
    c->data = data;
    c->len = len;
    c->shift = u16(data + 0x1E);
    c->mini_shift = u16(data + 0x20);
    c->cutoff = u32(data + 0x38);
    if (c->shift < 7 || c->shift > 16 || c->mini_shift < 2 || c->mini_shift >= c->shift) {
        fail(why, ws, "unreasonable sector sizes (2^%u, mini 2^%u)", c->shift, c->mini_shift);
        ps_cfb_close(c);
        return NULL;
    }
    c->ssize = (size_t)1 << c->shift;
    bool v3 = u16(data + 0x1A) == 3;
    if (!load_fat(c, why, ws) || !load_directory(c, u32(data + 0x30), v3, why, ws) ||
        !list_root(c, why, ws)) {
        ps_cfb_close(c);
        return NULL;
    }
    /* the mini FAT: a chain of regular sectors */
    uint32_t mf = u32(data + 0x3C);
    size_t nmf = mf <= MAXREGSECT ? chain_length(c->fat, c->nfat, mf) : 0;
    if (nmf) {
        c->nminifat = nmf * (c->ssize / 4);
        uint8_t *raw = malloc(nmf * c->ssize);
        c->minifat = malloc(c->nminifat * sizeof *c->minifat);
        if (!raw || !c->minifat ||
            !read_chain(c, c->fat, c->nfat, false, mf, (uint64_t)nmf * c->ssize, raw, why, ws)) {
            if (!raw || !c->minifat)
                fail(why, ws, "out of memory");
            free(raw);
            ps_cfb_close(c);
            return NULL;
        }
        for (size_t i = 0; i < c->nminifat; i++)
            c->minifat[i] = u32(raw + 4 * i);
        free(raw);
    }
    return c;
}

void ps_cfb_close(cfb *c)
{
    if (!c)
        return;
    free(c->fat);
    free(c->minifat);
    free(c->dir);
    free(c->root);
    free(c->mini);
    free(c);
}

size_t ps_cfb_root_count(const cfb *c)
{
    return c->nroot;
}

const char *ps_cfb_root_name(const cfb *c, size_t i)
{
    return i < c->nroot ? c->dir[c->root[i]].name : "";
}

bool ps_cfb_root_is_stream(const cfb *c, size_t i)
{
    return i < c->nroot && c->dir[c->root[i]].type == TYPE_STREAM;
}

bool ps_cfb_read_root_stream(const cfb *cc, size_t i, uint8_t **out, size_t *len, char *why, size_t ws)
{
    cfb *c = (cfb *)cc; /* the mini stream is read on first need */
    if (!ps_cfb_root_is_stream(c, i))
        return fail(why, ws, "not a stream");
    const dir_entry *d = &c->dir[c->root[i]];
    if (d->size > c->len)
        return fail(why, ws, "stream of %llu bytes in a file of %zu", (unsigned long long)d->size, c->len);
    bool mini = d->size < c->cutoff;
    if (mini && !c->mini_read) {
        c->mini_read = true;
        const dir_entry *root = &c->dir[0];
        if (root->size > c->len)
            return fail(why, ws, "mini stream of %llu bytes in a file of %zu", (unsigned long long)root->size,
                        c->len);
        c->mini_len = (size_t)root->size;
        c->mini = malloc(c->mini_len ? c->mini_len : 1);
        if (!c->mini)
            return fail(why, ws, "out of memory");
        if (!read_chain(c, c->fat, c->nfat, false, root->start, root->size, c->mini, why, ws)) {
            c->mini_len = 0;
            return false;
        }
    }
    uint8_t *buf = malloc(d->size ? (size_t)d->size : 1);
    if (!buf)
        return fail(why, ws, "out of memory");
    bool ok = mini ? read_chain(c, c->minifat, c->nminifat, true, d->start, d->size, buf, why, ws)
                   : read_chain(c, c->fat, c->nfat, false, d->start, d->size, buf, why, ws);
    if (!ok) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = (size_t)d->size;
    return true;
}
