/* writer_layout.c - the layout of a standardized sheet, read from a mapping: its canonical
 * fields in declaration order, grouped and labelled by the optional `layout:` section, which the
 * mapping compiled and checked when it was loaded (ps_mapping_layout, docs/mapping.md):
 *
 *   layout:
 *     title: 部门整体支出绩效评价基础数据表   # default: the mapping's title
 *     sheet: 基础数据表                       # default: the title (made a valid sheet name)
 *     header: [unit_name, year, fill_date]    # the rows under the title
 *     blocks:
 *       - title: 财政供养人员情况
 *         fields: [staff_quota, staff_actual, {staff_control_rate: 控制率}]
 *       - grid:                               # keys <row>.<column>
 *           columns: {final: 决算数, budget: 预算数}
 *           rows: {basic_expense: 一、部门基本支出, three_public: 2、三公经费}
 *       - table: projects                     # columns: the mapping's fields of the table
 *         detail: 项目明细                     # its sheet in the consolidated workbook
 *                                             # (default 明细-<table>; false: none)
 *
 * Fields the section does not place are appended in the mapping's order, so nothing is lost.
 * Converted workbooks hold the figures as submitted, no formulas: derived cells are declared by
 * rules with `computed: true`. */
#include "perfsheet/writer.h"

#include "writer_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ps_wr_table_column_key(const char *key, const char *table)
{
    if (!key || !table)
        return key;
    size_t n = strlen(table);
    if (strncmp(key, table, n) == 0) {
        if (key[n] == '.')
            return key + n + 1;
        if (key[n] == '[' && key[n + 1] == ']' && key[n + 2] == '.')
            return key + n + 3;
    }
    return key;
}

static const ps_field_spec *find_spec(const wr_layout *l, const char *key, const char *table)
{
    if (!l || !l->mapping || !key)
        return NULL;
    size_t n = ps_mapping_field_count(l->mapping);
    for (size_t i = 0; i < n; i++) {
        const ps_field_spec *f = ps_mapping_field(l->mapping, i);
        if (!f || !f->key)
            continue;
        if (!table) {
            if (!f->table && strcmp(f->key, key) == 0)
                return f;
        } else if (f->table && strcmp(f->table, table) == 0 &&
                   strcmp(ps_wr_table_column_key(f->key, table), key) == 0) {
            return f;
        }
    }
    return NULL;
}

const char *ps_wr_label(const wr_layout *l, const char *key, const char *table)
{
    const ps_field_spec *f = find_spec(l, key, table);
    return f && f->label && f->label[0] ? f->label : key;
}

const char *ps_wr_field_label(const wr_layout *l, const char *key)
{
    for (size_t i = 0; i < l->nheader; i++)
        if (strcmp(l->header[i].key, key) == 0 && l->header[i].label)
            return l->header[i].label;
    for (size_t b = 0; b < l->nblocks; b++) {
        const wr_block *blk = &l->blocks[b];
        for (size_t i = 0; blk->kind == WR_FIELDS && i < blk->nrows; i++)
            if (strcmp(blk->rows[i].key, key) == 0 && blk->rows[i].label)
                return blk->rows[i].label;
    }
    return ps_wr_label(l, key, NULL);
}

ps_field_type ps_wr_type(const wr_layout *l, const char *key, const char *table, const ps_value *v)
{
    const ps_field_spec *f = find_spec(l, key, table);
    if (f)
        return f->type;
    return v ? v->type : PS_TYPE_TEXT;
}

/* ---- building ---- */

typedef struct builder {
    wr_layout *l;
    ps_error *err;
    const char *file;
} builder;

static ps_status nomem(builder *b)
{
    return ps_error_set(b->err, PS_ERR_NOMEM, b->file, "内存不足");
}

static bool push_item(builder *b, wr_item **items, size_t *n, const char *key, const char *label)
{
    wr_item *p = realloc(*items, (*n + 1) * sizeof *p);
    if (!p)
        return false;
    *items = p;
    p[*n].key = key;
    p[*n].label = label;
    (*n)++;
    return true;
}

/* Copies a layout list; a missing label is the mapping's label of key (in table) when
 * from_mapping, else NULL (filled by the caller). */
static ps_status copy_items(builder *b, const ps_layout_item *src, size_t n, const char *table,
                            bool from_mapping, wr_item **items, size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        const char *label = src[i].label;
        if (!label)
            label = from_mapping ? ps_wr_label(b->l, src[i].key, table) : NULL;
        if (!push_item(b, items, count, src[i].key, label))
            return nomem(b);
    }
    return PS_OK;
}

static wr_block *add_block(builder *b, wr_block_kind kind)
{
    wr_layout *l = b->l;
    if (l->nblocks == l->block_cap) {
        size_t cap = l->block_cap ? l->block_cap * 2 : 8;
        wr_block *p = realloc(l->blocks, cap * sizeof *p);
        if (!p)
            return NULL;
        l->blocks = p;
        l->block_cap = cap;
    }
    wr_block *blk = &l->blocks[l->nblocks++];
    memset(blk, 0, sizeof *blk);
    blk->kind = kind;
    return blk;
}

static ps_status table_columns_from_mapping(builder *b, wr_block *blk)
{
    const ps_mapping *m = b->l->mapping;
    size_t n = m ? ps_mapping_field_count(m) : 0;
    for (size_t i = 0; i < n; i++) {
        const ps_field_spec *f = ps_mapping_field(m, i);
        if (f && f->key && f->table && strcmp(f->table, blk->table) == 0) {
            const char *key = ps_wr_table_column_key(f->key, blk->table);
            if (!push_item(b, &blk->rows, &blk->nrows, key, f->label && f->label[0] ? f->label : key))
                return nomem(b);
        }
    }
    return PS_OK;
}

static ps_status copy_block(builder *b, const ps_layout_block *src)
{
    wr_block *blk = add_block(b, src->kind == PS_LAYOUT_FIELDS ? WR_FIELDS
                                 : src->kind == PS_LAYOUT_GRID ? WR_GRID
                                                               : WR_TABLE);
    if (!blk)
        return nomem(b);
    blk->title = src->title;
    if (src->kind == PS_LAYOUT_FIELDS)
        return copy_items(b, src->items, src->nitems, NULL, true, &blk->rows, &blk->nrows);
    if (src->kind == PS_LAYOUT_GRID) {
        ps_status st = copy_items(b, src->columns, src->ncolumns, NULL, false, &blk->cols, &blk->ncols);
        if (st == PS_OK)
            st = copy_items(b, src->items, src->nitems, NULL, false, &blk->rows, &blk->nrows);
        if (st != PS_OK)
            return st;
        for (size_t i = 0; i < blk->ncols; i++)
            if (!blk->cols[i].label)
                blk->cols[i].label = blk->cols[i].key;
        for (size_t i = 0; i < blk->nrows; i++)
            if (!blk->rows[i].label)
                blk->rows[i].label = blk->rows[i].key;
        return PS_OK;
    }
    blk->table = src->table;
    blk->detail = src->detail;
    if (src->nitems)
        return copy_items(b, src->items, src->nitems, blk->table, true, &blk->rows, &blk->nrows);
    return table_columns_from_mapping(b, blk);
}

static ps_status copy_layout(builder *b, const ps_layout *lay)
{
    wr_layout *l = b->l;
    l->title = lay->title;
    l->sheet = lay->sheet;
    ps_status st = PS_OK;
    if (lay->header)
        st = copy_items(b, lay->header, lay->nheader, NULL, true, &l->header, &l->nheader);
    for (size_t i = 0; st == PS_OK && i < lay->nblocks; i++)
        st = copy_block(b, &lay->blocks[i]);
    return st;
}

/* Is key placed by the layout (header, fields, or a grid cell)? */
static bool placed(const wr_layout *l, const char *key)
{
    for (size_t i = 0; i < l->nheader; i++)
        if (strcmp(l->header[i].key, key) == 0)
            return true;
    for (size_t bi = 0; bi < l->nblocks; bi++) {
        const wr_block *blk = &l->blocks[bi];
        if (blk->kind == WR_FIELDS) {
            for (size_t i = 0; i < blk->nrows; i++)
                if (strcmp(blk->rows[i].key, key) == 0)
                    return true;
        } else if (blk->kind == WR_GRID) {
            for (size_t r = 0; r < blk->nrows; r++) {
                size_t rl = strlen(blk->rows[r].key);
                if (strncmp(key, blk->rows[r].key, rl) != 0 || key[rl] != '.')
                    continue;
                for (size_t c = 0; c < blk->ncols; c++)
                    if (strcmp(key + rl + 1, blk->cols[c].key) == 0)
                        return true;
            }
        }
    }
    return false;
}

static bool table_placed(const wr_layout *l, const char *table)
{
    for (size_t bi = 0; bi < l->nblocks; bi++)
        if (l->blocks[bi].kind == WR_TABLE && strcmp(l->blocks[bi].table, table) == 0)
            return true;
    return false;
}

/* Appends what the section left out: the header fields, every plain field in one block, and a
 * block per table. */
static ps_status complete(builder *b)
{
    wr_layout *l = b->l;
    const ps_mapping *m = l->mapping;
    size_t n = m ? ps_mapping_field_count(m) : 0;
    if (!l->header) {
        static const char *const keys[] = {"unit_name", "year", "fill_date"};
        static const char *const labels[] = {"填报单位", "年度", "填报时间"};
        for (size_t i = 0; i < 3; i++) {
            const char *lab = ps_wr_label(l, keys[i], NULL);
            if (!push_item(b, &l->header, &l->nheader, keys[i], strcmp(lab, keys[i]) ? lab : labels[i]))
                return nomem(b);
        }
    }
    wr_block *rest = NULL;
    for (size_t i = 0; i < n; i++) {
        const ps_field_spec *f = ps_mapping_field(m, i);
        if (!f || !f->key)
            continue;
        if (f->table) {
            if (!table_placed(l, f->table)) {
                wr_block *blk = add_block(b, WR_TABLE);
                if (!blk || !(blk->table = ps_arena_strdup(&l->arena, f->table)))
                    return nomem(b);
                ps_status st = table_columns_from_mapping(b, blk);
                if (st != PS_OK)
                    return st;
                rest = NULL; /* fields after a table go below it */
            }
            continue;
        }
        if (placed(l, f->key))
            continue;
        if (!rest && !(rest = add_block(b, WR_FIELDS)))
            return nomem(b);
        if (!push_item(b, &rest->rows, &rest->nrows, f->key, f->label && f->label[0] ? f->label : f->key))
            return nomem(b);
    }
    return PS_OK;
}

ps_status ps_wr_layout_build(const ps_mapping *m, wr_layout **out, ps_error *err)
{
    wr_layout *l = calloc(1, sizeof *l);
    if (!l)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    l->mapping = m;
    builder b = {l, err, m ? ps_mapping_path(m) : NULL};
    ps_status st = PS_OK;
    const ps_layout *lay = m ? ps_mapping_layout(m) : NULL;
    if (lay)
        st = copy_layout(&b, lay);
    if (st == PS_OK)
        st = complete(&b);
    if (st == PS_OK && !l->title) {
        const char *t = m ? ps_mapping_title(m) : NULL;
        if (!t || !t[0])
            t = m ? ps_mapping_id(m) : "";
        l->title = t;
    }
    if (st == PS_OK && !l->sheet)
        l->sheet = l->title && l->title[0] ? l->title : (m ? ps_mapping_id(m) : "数据");
    if (st != PS_OK) {
        ps_wr_layout_free(l);
        return st;
    }
    *out = l;
    return PS_OK;
}

void ps_wr_layout_free(wr_layout *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nblocks; i++) {
        free(l->blocks[i].rows);
        free(l->blocks[i].cols);
    }
    free(l->blocks);
    free(l->header);
    free(l->formulas);
    ps_arena_release(&l->arena);
    free(l);
}

ps_status ps_writer_layout_check(const ps_mapping *m, ps_error *err)
{
    wr_layout *l = NULL;
    ps_status st = ps_wr_layout_build(m, &l, err);
    ps_wr_layout_free(l);
    return st;
}
