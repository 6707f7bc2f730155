/* document.c - canonical values of one template in one sheet; see document.h. */
#include "perfsheet/document.h"

#include "arena.h"
#include "perfsheet/workbook.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

typedef struct keyed_value {
    const char *key;
    uint32_t hash; /* of key: most lookups compare this, not the string */
    ps_value value;
    bool present;
} keyed_value;

/* Values in insertion order (the order they are written out). A list longer than
 * LIST_LINEAR also has an index: open addressing on the key's hash, each slot 1 + an item
 * (0 empty), at most half full. Without it (short lists, or no memory for it) lookups scan. */
typedef struct value_list {
    keyed_value *items;
    size_t n, cap;
    uint32_t *index;
    size_t nindex; /* slots, a power of two */
} value_list;

#define LIST_LINEAR 8

struct ps_table {
    const char *name;
    value_list *rows;
    size_t nrows, cap;
    const char **columns;
    size_t ncolumns, column_cap;
    ps_arena *arena;
};

struct ps_document {
    ps_arena arena;
    const char *template_id, *mapping, *file, *sheet;
    const char **sheets; /* sheets[0] == sheet */
    size_t nsheets;
    value_list values;
    ps_table **tables;
    size_t ntables, table_cap;
    ps_findings *findings;
    value_list blanks; /* cells of keys whose cell is blank (ps_document_set_blank_cell) */
};

static void list_release(value_list *l)
{
    free(l->items);
    free(l->index);
}

ps_document *ps_document_new(const char *template_id, const char *ps_mapping_path, const char *file,
                             const char *sheet)
{
    ps_document *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->template_id = ps_arena_strdup(&d->arena, template_id ? template_id : "");
    d->mapping = ps_arena_strdup(&d->arena, ps_mapping_path ? ps_mapping_path : "");
    d->file = ps_arena_strdup(&d->arena, file ? file : "");
    d->sheet = ps_arena_strdup(&d->arena, sheet ? sheet : "");
    d->findings = ps_findings_new();
    if (!d->template_id || !d->mapping || !d->file || !d->sheet || !d->findings ||
        ps_document_add_sheet(d, d->sheet) != 0) {
        ps_document_free(d);
        return NULL;
    }
    return d;
}

size_t ps_document_add_sheet(ps_document *d, const char *name)
{
    if (!name)
        name = "";
    for (size_t i = 0; i < d->nsheets; i++)
        if (!strcmp(d->sheets[i], name))
            return i;
    if (d->nsheets >= UINT16_MAX)
        return SIZE_MAX;
    const char **sheets = realloc(d->sheets, (d->nsheets + 1) * sizeof *sheets);
    if (!sheets)
        return SIZE_MAX;
    d->sheets = sheets;
    if (!(sheets[d->nsheets] = ps_arena_strdup(&d->arena, name)))
        return SIZE_MAX;
    return d->nsheets++;
}

size_t ps_document_sheet_count(const ps_document *d)
{
    return d->nsheets;
}

const char *ps_document_sheet_at(const ps_document *d, size_t i)
{
    return i < d->nsheets ? d->sheets[i] : NULL;
}

const char *ps_document_value_sheet(const ps_document *d, const ps_value *v)
{
    return v && v->sheet < d->nsheets ? d->sheets[v->sheet] : d->sheet;
}

char *ps_document_value_ref(const ps_document *d, const ps_value *v, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (!v || v->row == PS_NO_CELL || v->col == PS_NO_CELL)
        return buf;
    char a1[16];
    ps_cell_ref(v->row, v->col, a1, sizeof a1);
    if (d->nsheets > 1)
        snprintf(buf, size, "%s!%s", ps_document_value_sheet(d, v), a1);
    else
        snprintf(buf, size, "%s", a1);
    return buf;
}

void ps_document_free(ps_document *d)
{
    if (!d)
        return;
    list_release(&d->values);
    list_release(&d->blanks);
    free(d->sheets);
    for (size_t i = 0; i < d->ntables; i++) {
        ps_table *t = d->tables[i];
        for (size_t r = 0; r < t->nrows; r++)
            list_release(&t->rows[r]);
        free(t->rows);
        free(t->columns);
        free(t);
    }
    free(d->tables);
    ps_findings_free(d->findings);
    ps_arena_release(&d->arena);
    free(d);
}

const char *ps_document_template(const ps_document *d)
{
    return d->template_id;
}
const char *ps_document_mapping(const ps_document *d)
{
    return d->mapping;
}
const char *ps_document_file(const ps_document *d)
{
    return d->file;
}
const char *ps_document_sheet(const ps_document *d)
{
    return d->sheet;
}

static uint32_t key_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static keyed_value *list_find_hashed(const value_list *l, const char *key, uint32_t h)
{
    if (l->index) {
        size_t mask = l->nindex - 1;
        for (size_t s = h & mask; l->index[s]; s = (s + 1) & mask) {
            keyed_value *kv = &l->items[l->index[s] - 1];
            if (kv->hash == h && strcmp(kv->key, key) == 0)
                return kv;
        }
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].hash == h && strcmp(l->items[i].key, key) == 0)
            return &l->items[i];
    return NULL;
}

static keyed_value *list_find(const value_list *l, const char *key)
{
    return list_find_hashed(l, key, key_hash(key));
}

static void index_put(value_list *l, size_t i)
{
    size_t mask = l->nindex - 1, s = l->items[i].hash & mask;
    while (l->index[s])
        s = (s + 1) & mask;
    l->index[s] = (uint32_t)i + 1;
}

/* Makes the index fit l->n items (none while the list is short). Without memory for it, the
 * list goes without: lookups scan, as they do on short lists. */
static void list_reindex(value_list *l)
{
    if (l->n <= LIST_LINEAR || l->n >= UINT32_MAX / 4) {
        if (!l->index)
            return;
        free(l->index);
        l->index = NULL;
        l->nindex = 0;
        return;
    }
    if (l->index && 2 * l->n <= l->nindex) {
        index_put(l, l->n - 1); /* the item just added */
        return;
    }
    size_t nindex = 32;
    while (nindex < 4 * l->n)
        nindex *= 2;
    free(l->index);
    l->index = calloc(nindex, sizeof *l->index);
    l->nindex = l->index ? nindex : 0;
    for (size_t i = 0; l->index && i < l->n; i++)
        index_put(l, i);
}

/* Copies v's strings into the arena. */
static bool copy_value(ps_arena *a, ps_value *dst, const ps_value *v)
{
    *dst = *v;
    if (v->text && !(dst->text = ps_arena_strdup(a, v->text)))
        return false;
    if (v->raw && !(dst->raw = ps_arena_strdup(a, v->raw)))
        return false;
    if (v->comparator && !(dst->comparator = ps_arena_strdup(a, v->comparator)))
        return false;
    return true;
}

static bool list_set(value_list *l, ps_arena *a, const char *key, const ps_value *v)
{
    uint32_t h = key_hash(key);
    keyed_value *kv = list_find_hashed(l, key, h);
    if (!kv) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 4;
            keyed_value *items = realloc(l->items, cap * sizeof *items);
            if (!items)
                return false;
            l->items = items;
            l->cap = cap;
        }
        kv = &l->items[l->n];
        if (!(kv->key = ps_arena_strdup(a, key)))
            return false;
        kv->hash = h;
        kv->present = false;
        l->n++;
        list_reindex(l);
        kv = &l->items[l->n - 1];
    }
    if (!copy_value(a, &kv->value, v))
        return false;
    kv->present = true;
    return true;
}

const char *ps_document_unit(const ps_document *d)
{
    const ps_value *v = ps_document_get(d, "unit_name");
    return v ? v->text : NULL;
}

int ps_document_year(const ps_document *d)
{
    const ps_value *v = ps_document_get(d, "year");
    return v && v->has_number ? (int)v->number : 0;
}

bool ps_document_set(ps_document *d, const char *key, const ps_value *v)
{
    return list_set(&d->values, &d->arena, key, v);
}

void ps_document_unset(ps_document *d, const char *key)
{
    keyed_value *kv = list_find(&d->values, key);
    if (kv) {
        size_t i = (size_t)(kv - d->values.items);
        memmove(kv, kv + 1, (d->values.n - i - 1) * sizeof *kv);
        d->values.n--;
        free(d->values.index); /* the items moved: index them again */
        d->values.index = NULL;
        list_reindex(&d->values);
    }
}

const ps_value *ps_document_get(const ps_document *d, const char *key)
{
    keyed_value *kv = list_find(&d->values, key);
    return kv && kv->present ? &kv->value : NULL;
}

size_t ps_document_value_count(const ps_document *d)
{
    return d->values.n;
}
const char *ps_document_value_key(const ps_document *d, size_t i)
{
    return d->values.items[i].key;
}
const ps_value *ps_document_value_at(const ps_document *d, size_t i)
{
    return &d->values.items[i].value;
}

ps_table *ps_document_add_table(ps_document *d, const char *name)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (strcmp(d->tables[i]->name, name) == 0)
            return d->tables[i];
    if (d->ntables == d->table_cap) {
        size_t cap = d->table_cap ? d->table_cap * 2 : 4;
        ps_table **t = realloc(d->tables, cap * sizeof *t);
        if (!t)
            return NULL;
        d->tables = t;
        d->table_cap = cap;
    }
    ps_table *t = calloc(1, sizeof *t);
    if (!t || !(t->name = ps_arena_strdup(&d->arena, name))) {
        free(t);
        return NULL;
    }
    t->arena = &d->arena;
    d->tables[d->ntables++] = t;
    return t;
}

const ps_table *ps_document_table(const ps_document *d, const char *name)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (strcmp(d->tables[i]->name, name) == 0)
            return d->tables[i];
    return NULL;
}

size_t ps_document_table_count(const ps_document *d)
{
    return d->ntables;
}
const ps_table *ps_document_table_at(const ps_document *d, size_t i)
{
    return i < d->ntables ? d->tables[i] : NULL;
}

const char *ps_table_name(const ps_table *t)
{
    return t->name;
}
size_t ps_table_row_count(const ps_table *t)
{
    return t->nrows;
}

size_t ps_table_add_row(ps_table *t)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        value_list *rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows)
            return SIZE_MAX;
        t->rows = rows;
        t->cap = cap;
    }
    memset(&t->rows[t->nrows], 0, sizeof t->rows[0]);
    return t->nrows++;
}

bool ps_table_set(ps_table *t, size_t row, const char *key, const ps_value *v)
{
    if (row >= t->nrows)
        return false;
    bool known = false;
    for (size_t i = 0; i < t->ncolumns && !known; i++)
        known = strcmp(t->columns[i], key) == 0;
    if (!known) {
        if (t->ncolumns == t->column_cap) {
            size_t cap = t->column_cap ? t->column_cap * 2 : 8;
            const char **c = realloc(t->columns, cap * sizeof *c);
            if (!c)
                return false;
            t->columns = c;
            t->column_cap = cap;
        }
        if (!(t->columns[t->ncolumns] = ps_arena_strdup(t->arena, key)))
            return false;
        t->ncolumns++;
    }
    return list_set(&t->rows[row], t->arena, key, v);
}

const ps_value *ps_table_get(const ps_table *t, size_t row, const char *key)
{
    if (row >= t->nrows)
        return NULL;
    keyed_value *kv = list_find(&t->rows[row], key);
    return kv && kv->present ? &kv->value : NULL;
}

size_t ps_table_column_count(const ps_table *t)
{
    return t->ncolumns;
}
const char *ps_table_column(const ps_table *t, size_t i)
{
    return i < t->ncolumns ? t->columns[i] : NULL;
}

ps_findings *ps_document_findings(ps_document *d)
{
    return d->findings;
}
const ps_findings *ps_document_findings_const(const ps_document *d)
{
    return d->findings;
}

bool ps_table_cell_key(char *buf, size_t size, const char *table, size_t row, const char *column)
{
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + row % 10);
        row /= 10;
    } while (row);
    size_t nt = strlen(table), nc = strlen(column), need = nt + 1 + nd + 2 + nc + 1;
    if (need > size)
        return false;
    char *p = buf;
    memcpy(p, table, nt);
    p += nt;
    *p++ = '[';
    while (nd)
        *p++ = digits[--nd];
    *p++ = ']';
    *p++ = '.';
    memcpy(p, column, nc + 1);
    return true;
}

bool ps_document_set_blank_cell(ps_document *d, const char *key, uint32_t row, uint32_t col)
{
    return ps_document_set_blank_cell_on(d, key, 0, row, col);
}

bool ps_document_set_blank_cell_on(ps_document *d, const char *key, size_t sheet, uint32_t row, uint32_t col)
{
    ps_value v = ps_value_number(PS_TYPE_TEXT, 0, row, col);
    v.has_number = false;
    v.sheet = sheet < d->nsheets ? (uint16_t)sheet : 0;
    return list_set(&d->blanks, &d->arena, key, &v);
}

bool ps_document_blank_cell(const ps_document *d, const char *key, uint32_t *row, uint32_t *col)
{
    size_t sheet;
    return ps_document_blank_cell_on(d, key, &sheet, row, col);
}

bool ps_document_blank_cell_on(const ps_document *d, const char *key, size_t *sheet, uint32_t *row,
                               uint32_t *col)
{
    keyed_value *kv = list_find(&d->blanks, key);
    if (!kv || kv->value.row == PS_NO_CELL || ps_document_get(d, key))
        return false;
    *sheet = kv->value.sheet;
    *row = kv->value.row;
    *col = kv->value.col;
    return true;
}

/* kept with the blank cells (and encoded with them): no cell, the text says what is missing */
bool ps_document_set_missing_label(ps_document *d, const char *key, const char *what)
{
    ps_value v = ps_value_number(PS_TYPE_TEXT, 0, PS_NO_CELL, PS_NO_CELL);
    v.has_number = false;
    v.text = what;
    return list_set(&d->blanks, &d->arena, key, &v);
}

const char *ps_document_missing_label(const ps_document *d, const char *key)
{
    keyed_value *kv = list_find(&d->blanks, key);
    if (!kv || kv->value.row != PS_NO_CELL || ps_document_get(d, key))
        return NULL;
    return kv->value.text;
}

ps_value ps_value_number(ps_field_type type, double number, uint32_t row, uint32_t col)
{
    ps_value v = {0};
    v.type = type;
    v.has_number = true;
    v.number = number;
    v.row = row;
    v.col = col;
    v.decimals = 255;
    return v;
}

/* ---- encode / decode ---------------------------------------------------------------- */

typedef struct enc {
    char *p;
    size_t n, cap;
    bool oom;
} enc;

static void put(enc *e, const void *src, size_t n)
{
    if (e->oom)
        return;
    if (e->n + n > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 1024;
        while (cap < e->n + n)
            cap *= 2;
        char *q = realloc(e->p, cap);
        if (!q) {
            e->oom = true;
            return;
        }
        e->p = q;
        e->cap = cap;
    }
    memcpy(e->p + e->n, src, n);
    e->n += n;
}

static void put_u32(enc *e, uint32_t v)
{
    put(e, &v, sizeof v);
}
static void put_u8(enc *e, uint8_t v)
{
    put(e, &v, 1);
}
static void put_f64(enc *e, double v)
{
    put(e, &v, sizeof v);
}

static void put_str(enc *e, const char *s)
{
    if (!s) {
        put_u32(e, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    put_u32(e, (uint32_t)n);
    put(e, s, n);
}

static void put_value(enc *e, const ps_value *v)
{
    put_u8(e, (uint8_t)v->type);
    put_u8(e, (uint8_t)(v->has_number | v->formula << 1));
    put_f64(e, v->number);
    put_str(e, v->text);
    put_str(e, v->raw);
    put_str(e, v->comparator);
    put_u32(e, v->row);
    put_u32(e, v->col);
    put_u32(e, v->sheet);
    put_u8(e, v->decimals);
}

static void put_list(enc *e, const value_list *l)
{
    uint32_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->items[i].present;
    put_u32(e, n);
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].present) {
            put_str(e, l->items[i].key);
            put_value(e, &l->items[i].value);
        }
}

static void put_scalar(enc *e, const ps_scalar *sc)
{
    put_u8(e, (uint8_t)sc->kind);
    put_f64(e, sc->number);
    put_str(e, sc->kind == PS_SCALAR_TEXT ? sc->text : NULL);
}

bool ps_document_encode(const ps_document *d, char **data, size_t *len)
{
    enc e = {0};
    put_u32(&e, 0x50534432); /* "PSD2": values carry their sheet */
    put_str(&e, d->template_id);
    put_str(&e, d->mapping);
    put_str(&e, d->file);
    put_str(&e, d->sheet);
    put_u32(&e, (uint32_t)d->nsheets);
    for (size_t i = 1; i < d->nsheets; i++)
        put_str(&e, d->sheets[i]);
    put_list(&e, &d->values);
    put_list(&e, &d->blanks);
    put_u32(&e, (uint32_t)d->ntables);
    for (size_t t = 0; t < d->ntables; t++) {
        const ps_table *tb = d->tables[t];
        put_str(&e, tb->name);
        put_u32(&e, (uint32_t)tb->ncolumns);
        for (size_t c = 0; c < tb->ncolumns; c++)
            put_str(&e, tb->columns[c]);
        put_u32(&e, (uint32_t)tb->nrows);
        for (size_t r = 0; r < tb->nrows; r++)
            put_list(&e, &tb->rows[r]);
    }
    size_t nf = ps_findings_count(d->findings);
    put_u32(&e, (uint32_t)nf);
    for (size_t i = 0; i < nf; i++) {
        const ps_finding *f = ps_findings_at(d->findings, i);
        put_str(&e, f->rule);
        put_u8(&e, (uint8_t)f->severity);
        put_str(&e, f->file);
        put_str(&e, f->sheet);
        put_str(&e, f->cell);
        put_u32(&e, (uint32_t)f->ncells);
        for (size_t c = 0; c < f->ncells; c++)
            put_str(&e, f->cells[c]);
        put_scalar(&e, &f->expected);
        put_scalar(&e, &f->actual);
        put_str(&e, f->message);
    }
    if (e.oom) {
        free(e.p);
        return false;
    }
    *data = e.p;
    *len = e.n;
    return true;
}

typedef struct dec {
    const char *p;
    size_t n, at;
    bool bad;
    char *scratch[8]; /* strings of the item being read */
    int nscratch;
} dec;

static bool get(dec *x, void *dst, size_t n)
{
    if (x->bad || x->n - x->at < n) {
        x->bad = true;
        memset(dst, 0, n);
        return false;
    }
    memcpy(dst, x->p + x->at, n);
    x->at += n;
    return true;
}

static uint32_t get_u32(dec *x)
{
    uint32_t v;
    get(x, &v, sizeof v);
    return v;
}

static uint8_t get_u8(dec *x)
{
    uint8_t v;
    get(x, &v, 1);
    return v;
}

static double get_f64(dec *x)
{
    double v;
    get(x, &v, sizeof v);
    return v;
}

/* A string of the input, NUL-terminated in a scratch copy valid until release_scratch. */
static const char *get_str(dec *x)
{
    uint32_t n = get_u32(x);
    if (x->bad || n == UINT32_MAX)
        return NULL;
    if (x->n - x->at < n || x->nscratch == 8) {
        x->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        x->bad = true;
        return NULL;
    }
    memcpy(s, x->p + x->at, n);
    s[n] = '\0';
    x->at += n;
    x->scratch[x->nscratch++] = s;
    return s;
}

static void release_scratch(dec *x)
{
    for (int i = 0; i < x->nscratch; i++)
        free(x->scratch[i]);
    x->nscratch = 0;
}

static ps_value get_value(dec *x)
{
    ps_value v = {0};
    v.type = (ps_field_type)get_u8(x);
    uint8_t flags = get_u8(x);
    v.has_number = flags & 1;
    v.formula = (flags >> 1) & 1;
    v.number = get_f64(x);
    v.text = get_str(x);
    v.raw = get_str(x);
    v.comparator = get_str(x);
    v.row = get_u32(x);
    v.col = get_u32(x);
    uint32_t sheet = get_u32(x);
    v.sheet = sheet <= UINT16_MAX ? (uint16_t)sheet : 0;
    v.decimals = get_u8(x);
    return v;
}

/* Reads a value list into doc through set(key, value). */
static bool get_list(dec *x, bool (*set)(void *, const char *, const ps_value *), void *ctx)
{
    uint32_t n = get_u32(x);
    for (uint32_t i = 0; i < n && !x->bad; i++) {
        const char *key = get_str(x);
        ps_value v = get_value(x);
        if (!x->bad && (!key || !set(ctx, key, &v)))
            x->bad = true;
        release_scratch(x);
    }
    return !x->bad;
}

static bool set_value(void *ctx, const char *key, const ps_value *v)
{
    return ps_document_set(ctx, key, v);
}

static bool set_blank(void *ctx, const char *key, const ps_value *v)
{
    return ps_document_set_blank_cell_on(ctx, key, v->sheet, v->row, v->col);
}

typedef struct row_ctx {
    ps_table *t;
    size_t row;
} row_ctx;

static bool set_cell(void *ctx, const char *key, const ps_value *v)
{
    row_ctx *rc = ctx;
    return ps_table_set(rc->t, rc->row, key, v);
}

static ps_scalar get_scalar(dec *x)
{
    ps_scalar sc = {0};
    sc.kind = (ps_scalar_kind)get_u8(x);
    sc.number = get_f64(x);
    sc.text = (char *)get_str(x);
    return sc;
}

ps_document *ps_document_decode(const char *data, size_t len)
{
    dec x = {.p = data, .n = len};
    if (get_u32(&x) != 0x50534432)
        return NULL;
    const char *tpl = get_str(&x), *map = get_str(&x), *file = get_str(&x), *sheet = get_str(&x);
    ps_document *d = x.bad ? NULL : ps_document_new(tpl, map, file, sheet);
    release_scratch(&x);
    if (!d)
        return NULL;
    uint32_t nsheets = x.bad ? 0 : get_u32(&x);
    for (uint32_t i = 1; i < nsheets && !x.bad; i++) {
        const char *name = get_str(&x);
        if (!name || ps_document_add_sheet(d, name) != i)
            x.bad = true;
        release_scratch(&x);
    }
    get_list(&x, set_value, d);
    get_list(&x, set_blank, d);
    uint32_t nt = x.bad ? 0 : get_u32(&x);
    for (uint32_t t = 0; t < nt && !x.bad; t++) {
        const char *name = get_str(&x);
        ps_table *tb = name ? ps_document_add_table(d, name) : NULL;
        release_scratch(&x);
        if (!tb) {
            x.bad = true;
            break;
        }
        uint32_t nc = get_u32(&x);
        for (uint32_t c = 0; c < nc && !x.bad; c++) {
            const char *col = get_str(&x);
            /* the column order as first set, before any row */
            const char **cols = col ? realloc(tb->columns, (tb->ncolumns + 1) * sizeof *cols) : NULL;
            if (!cols || !(cols[tb->ncolumns] = ps_arena_strdup(tb->arena, col)))
                x.bad = true;
            if (cols) {
                tb->columns = cols;
                tb->column_cap = tb->ncolumns + 1;
                if (!x.bad)
                    tb->ncolumns++;
            }
            release_scratch(&x);
        }
        uint32_t nr = get_u32(&x);
        for (uint32_t r = 0; r < nr && !x.bad; r++) {
            row_ctx rc = {tb, ps_table_add_row(tb)};
            if (rc.row == SIZE_MAX)
                x.bad = true;
            else
                get_list(&x, set_cell, &rc);
        }
    }
    uint32_t nf = x.bad ? 0 : get_u32(&x);
    for (uint32_t i = 0; i < nf && !x.bad; i++) {
        const char *rule = get_str(&x);
        ps_severity sev = (ps_severity)get_u8(&x);
        const char *ffile = get_str(&x), *fsheet = get_str(&x), *fcell = get_str(&x);
        char cell[64] = "";
        bool has_cell = fcell && strlen(fcell) < sizeof cell;
        if (has_cell)
            memcpy(cell, fcell, strlen(fcell) + 1);
        uint32_t ncells = get_u32(&x);
        ps_finding *f =
            x.bad || !rule ? NULL : ps_findings_add(d->findings, rule, sev, ffile, fsheet, NULL, "");
        if (!f)
            x.bad = true;
        release_scratch(&x);
        for (uint32_t c = 0; c < ncells && !x.bad; c++) {
            const char *involved = get_str(&x);
            if (!involved || !ps_finding_add_cell(f, involved))
                x.bad = true;
            release_scratch(&x);
        }
        ps_scalar ex = get_scalar(&x), ac = get_scalar(&x);
        const char *msg = get_str(&x);
        if (!x.bad) {
            if (ex.kind == PS_SCALAR_NUMBER)
                ps_finding_set_expected_number(f, ex.number);
            else if (ex.kind == PS_SCALAR_TEXT && ex.text)
                ps_finding_set_expected_text(f, ex.text);
            if (ac.kind == PS_SCALAR_NUMBER)
                ps_finding_set_actual_number(f, ac.number);
            else if (ac.kind == PS_SCALAR_TEXT && ac.text)
                ps_finding_set_actual_text(f, ac.text);
            if (!ps_finding_set_texts(f, has_cell ? cell : NULL, msg))
                x.bad = true;
        }
        release_scratch(&x);
    }
    release_scratch(&x);
    if (x.bad) {
        ps_document_free(d);
        return NULL;
    }
    return d;
}
