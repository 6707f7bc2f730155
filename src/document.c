/* document.c - canonical values of one template in one sheet; see document.h. */
#include "perfsheet/document.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>

typedef struct keyed_value {
    const char *key;
    ps_value value;
    bool present;
} keyed_value;

typedef struct value_list {
    keyed_value *items;
    size_t n, cap;
} value_list;

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
    value_list values;
    ps_table **tables;
    size_t ntables, table_cap;
    ps_findings *findings;
    value_list blanks; /* cells of keys whose cell is blank (document_set_blank_cell) */
};

ps_document *document_new(const char *template_id, const char *mapping_path, const char *file,
                          const char *sheet)
{
    ps_document *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->template_id = arena_strdup(&d->arena, template_id ? template_id : "");
    d->mapping = arena_strdup(&d->arena, mapping_path ? mapping_path : "");
    d->file = arena_strdup(&d->arena, file ? file : "");
    d->sheet = arena_strdup(&d->arena, sheet ? sheet : "");
    d->findings = findings_new();
    if (!d->template_id || !d->mapping || !d->file || !d->sheet || !d->findings) {
        document_free(d);
        return NULL;
    }
    return d;
}

void document_free(ps_document *d)
{
    if (!d)
        return;
    free(d->values.items);
    free(d->blanks.items);
    for (size_t i = 0; i < d->ntables; i++) {
        ps_table *t = d->tables[i];
        for (size_t r = 0; r < t->nrows; r++)
            free(t->rows[r].items);
        free(t->rows);
        free(t->columns);
        free(t);
    }
    free(d->tables);
    findings_free(d->findings);
    arena_release(&d->arena);
    free(d);
}

const char *document_template(const ps_document *d) { return d->template_id; }
const char *document_mapping(const ps_document *d) { return d->mapping; }
const char *document_file(const ps_document *d) { return d->file; }
const char *document_sheet(const ps_document *d) { return d->sheet; }

static keyed_value *list_find(const value_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return &l->items[i];
    return NULL;
}

/* Copies v's strings into the arena. */
static bool copy_value(ps_arena *a, ps_value *dst, const ps_value *v)
{
    *dst = *v;
    if (v->text && !(dst->text = arena_strdup(a, v->text)))
        return false;
    if (v->raw && !(dst->raw = arena_strdup(a, v->raw)))
        return false;
    if (v->comparator && !(dst->comparator = arena_strdup(a, v->comparator)))
        return false;
    return true;
}

static bool list_set(value_list *l, ps_arena *a, const char *key, const ps_value *v)
{
    keyed_value *kv = list_find(l, key);
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
        if (!(kv->key = arena_strdup(a, key)))
            return false;
        kv->present = false;
        l->n++;
    }
    if (!copy_value(a, &kv->value, v))
        return false;
    kv->present = true;
    return true;
}

const char *document_unit(const ps_document *d)
{
    const ps_value *v = document_get(d, "unit_name");
    return v ? v->text : NULL;
}

int document_year(const ps_document *d)
{
    const ps_value *v = document_get(d, "year");
    return v && v->has_number ? (int)v->number : 0;
}

bool document_set(ps_document *d, const char *key, const ps_value *v) { return list_set(&d->values, &d->arena, key, v); }

void document_unset(ps_document *d, const char *key)
{
    keyed_value *kv = list_find(&d->values, key);
    if (kv) {
        size_t i = (size_t)(kv - d->values.items);
        memmove(kv, kv + 1, (d->values.n - i - 1) * sizeof *kv);
        d->values.n--;
    }
}

const ps_value *document_get(const ps_document *d, const char *key)
{
    keyed_value *kv = list_find(&d->values, key);
    return kv && kv->present ? &kv->value : NULL;
}

size_t document_value_count(const ps_document *d) { return d->values.n; }
const char *document_value_key(const ps_document *d, size_t i) { return d->values.items[i].key; }
const ps_value *document_value_at(const ps_document *d, size_t i) { return &d->values.items[i].value; }

ps_table *document_add_table(ps_document *d, const char *name)
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
    if (!t || !(t->name = arena_strdup(&d->arena, name))) {
        free(t);
        return NULL;
    }
    t->arena = &d->arena;
    d->tables[d->ntables++] = t;
    return t;
}

const ps_table *document_table(const ps_document *d, const char *name)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (strcmp(d->tables[i]->name, name) == 0)
            return d->tables[i];
    return NULL;
}

size_t document_table_count(const ps_document *d) { return d->ntables; }
const ps_table *document_table_at(const ps_document *d, size_t i) { return i < d->ntables ? d->tables[i] : NULL; }

const char *table_name(const ps_table *t) { return t->name; }
size_t table_row_count(const ps_table *t) { return t->nrows; }

size_t table_add_row(ps_table *t)
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

bool table_set(ps_table *t, size_t row, const char *key, const ps_value *v)
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
        if (!(t->columns[t->ncolumns] = arena_strdup(t->arena, key)))
            return false;
        t->ncolumns++;
    }
    return list_set(&t->rows[row], t->arena, key, v);
}

const ps_value *table_get(const ps_table *t, size_t row, const char *key)
{
    if (row >= t->nrows)
        return NULL;
    keyed_value *kv = list_find(&t->rows[row], key);
    return kv && kv->present ? &kv->value : NULL;
}

size_t table_column_count(const ps_table *t) { return t->ncolumns; }
const char *table_column(const ps_table *t, size_t i) { return i < t->ncolumns ? t->columns[i] : NULL; }

ps_findings *document_findings(ps_document *d) { return d->findings; }
const ps_findings *document_findings_const(const ps_document *d) { return d->findings; }

bool document_set_blank_cell(ps_document *d, const char *key, uint32_t row, uint32_t col)
{
    ps_value v = value_number(PS_TYPE_TEXT, 0, row, col);
    v.has_number = false;
    return list_set(&d->blanks, &d->arena, key, &v);
}

bool document_blank_cell(const ps_document *d, const char *key, uint32_t *row, uint32_t *col)
{
    keyed_value *kv = list_find(&d->blanks, key);
    if (!kv || document_get(d, key))
        return false;
    *row = kv->value.row;
    *col = kv->value.col;
    return true;
}

ps_value value_number(ps_field_type type, double number, uint32_t row, uint32_t col)
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
