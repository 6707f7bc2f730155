/* writer_layout.c - the layout of a standardized sheet, read from a mapping: its canonical
 * fields in declaration order, grouped and labelled by the optional `layout:` section:
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
 *     formulas:                               # derived cells, written as live formulas
 *       staff_control_rate: staff_actual / staff_quota
 *       three_public.*: vehicle.* + reception.* + overseas.*   # * = each grid column
 *       project_expense.*: sum(projects.*)
 *       total.score: funds.score + coalesce(sum(blocks.score), sum(indicators.score))
 *
 * Fields the section does not place are appended in the mapping's order, so nothing is lost. */
#include "perfsheet/writer.h"

#include "writer_int.h"
#include "yaml_pos.h"

#include <libfyaml.h>
#include <pthread.h>
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

static ps_status bad(builder *b, struct fy_node *n, const char *what)
{
    int line, col;
    ps_yaml_node_position(n, &line, &col);
    return ps_error_at_line(b->err, PS_ERR_MAPPING, b->file, line, col, "layout: %s", what);
}

static const char *scalar(builder *b, struct fy_node *n)
{
    if (!n || !fy_node_is_scalar(n))
        return NULL;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    return s ? ps_arena_strndup(&b->l->arena, s, len) : NULL;
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

/* A list of keys (scalars or one-pair maps key: label) or a map key: label. A missing label is
 * the mapping's label of key (in table) when from_mapping, else NULL (filled by the caller). */
static ps_status parse_items(builder *b, struct fy_node *n, const char *table, bool from_mapping,
                             wr_item **items, size_t *count)
{
    if (!n)
        return PS_OK;
    void *it = NULL;
    if (fy_node_is_sequence(n)) {
        struct fy_node *e;
        while ((e = fy_node_sequence_iterate(n, &it))) {
            const char *key = NULL, *label = NULL;
            if (fy_node_is_scalar(e)) {
                key = scalar(b, e);
            } else if (fy_node_is_mapping(e) && fy_node_mapping_item_count(e) == 1) {
                void *it2 = NULL;
                struct fy_node_pair *p = fy_node_mapping_iterate(e, &it2);
                key = scalar(b, fy_node_pair_key(p));
                label = scalar(b, fy_node_pair_value(p));
                if (!label)
                    return bad(b, fy_node_pair_key(p), "标签应为文本");
            } else {
                return bad(b, e, "列表项应为键名或 键名: 标签");
            }
            if (!key)
                return bad(b, e, "键名应为文本");
            if (!label)
                label = from_mapping ? ps_wr_label(b->l, key, table) : NULL;
            if (!push_item(b, items, count, key, label))
                return nomem(b);
        }
        return PS_OK;
    }
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(n, &it))) {
            const char *key = scalar(b, fy_node_pair_key(p)), *label = scalar(b, fy_node_pair_value(p));
            if (!key || !label)
                return bad(b, fy_node_pair_key(p), "应为 键名: 标签");
            if (!push_item(b, items, count, key, label))
                return nomem(b);
        }
        return PS_OK;
    }
    return bad(b, n, "应为列表或映射");
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

static ps_status parse_block(builder *b, struct fy_node *n)
{
    if (!fy_node_is_mapping(n))
        return bad(b, n, "blocks 的每一项应为映射");
    struct fy_node *fields = fy_node_mapping_lookup_by_string(n, "fields", FY_NT);
    struct fy_node *grid = fy_node_mapping_lookup_by_string(n, "grid", FY_NT);
    struct fy_node *table = fy_node_mapping_lookup_by_string(n, "table", FY_NT);
    struct fy_node *title = fy_node_mapping_lookup_by_string(n, "title", FY_NT);
    int kinds = !!fields + !!grid + !!table;
    if (kinds != 1)
        return bad(b, n, "每个块应有且只有 fields、grid、table 之一");
    wr_block *blk = add_block(b, fields ? WR_FIELDS : grid ? WR_GRID : WR_TABLE);
    if (!blk)
        return nomem(b);
    if (title && !(blk->title = scalar(b, title)))
        return bad(b, title, "title 应为文本");
    if (fields)
        return parse_items(b, fields, NULL, true, &blk->rows, &blk->nrows);
    if (grid) {
        if (!fy_node_is_mapping(grid))
            return bad(b, grid, "grid 应为映射（columns, rows）");
        struct fy_node *cols = fy_node_mapping_lookup_by_string(grid, "columns", FY_NT);
        struct fy_node *rows = fy_node_mapping_lookup_by_string(grid, "rows", FY_NT);
        if (!cols || !rows)
            return bad(b, grid, "grid 需要 columns 和 rows");
        ps_status st = parse_items(b, cols, NULL, false, &blk->cols, &blk->ncols);
        if (st == PS_OK)
            st = parse_items(b, rows, NULL, false, &blk->rows, &blk->nrows);
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
    if (!(blk->table = scalar(b, table)))
        return bad(b, table, "table 应为表名");
    struct fy_node *detail = fy_node_mapping_lookup_by_string(n, "detail", FY_NT);
    if (detail) {
        const char *d = scalar(b, detail);
        if (!d)
            return bad(b, detail, "detail 应为工作表名或 false");
        blk->detail = strcmp(d, "false") == 0 ? "" : d;
    }
    struct fy_node *cols = fy_node_mapping_lookup_by_string(n, "columns", FY_NT);
    if (cols)
        return parse_items(b, cols, blk->table, true, &blk->rows, &blk->nrows);
    return table_columns_from_mapping(b, blk);
}

static ps_status parse_section(builder *b, struct fy_node *sec)
{
    wr_layout *l = b->l;
    if (!fy_node_is_mapping(sec))
        return bad(b, sec, "layout 应为映射");
    struct fy_node *n;
    if ((n = fy_node_mapping_lookup_by_string(sec, "title", FY_NT)) && !(l->title = scalar(b, n)))
        return bad(b, n, "title 应为文本");
    if ((n = fy_node_mapping_lookup_by_string(sec, "sheet", FY_NT)) && !(l->sheet = scalar(b, n)))
        return bad(b, n, "sheet 应为文本");
    if ((n = fy_node_mapping_lookup_by_string(sec, "header", FY_NT))) {
        ps_status st = parse_items(b, n, NULL, true, &l->header, &l->nheader);
        if (st != PS_OK)
            return st;
    }
    if ((n = fy_node_mapping_lookup_by_string(sec, "blocks", FY_NT))) {
        if (!fy_node_is_sequence(n))
            return bad(b, n, "blocks 应为列表");
        void *it = NULL;
        struct fy_node *e;
        while ((e = fy_node_sequence_iterate(n, &it))) {
            ps_status st = parse_block(b, e);
            if (st != PS_OK)
                return st;
        }
    }
    if ((n = fy_node_mapping_lookup_by_string(sec, "formulas", FY_NT))) {
        if (!fy_node_is_mapping(n))
            return bad(b, n, "formulas 应为映射（键名: 公式）");
        void *it = NULL;
        struct fy_node_pair *p;
        size_t cnt = (size_t)fy_node_mapping_item_count(n);
        l->formulas = calloc(cnt ? cnt : 1, sizeof *l->formulas);
        if (!l->formulas)
            return nomem(b);
        while ((p = fy_node_mapping_iterate(n, &it)) && l->nformulas < cnt) {
            const char *t = scalar(b, fy_node_pair_key(p)), *e = scalar(b, fy_node_pair_value(p));
            if (!t || !e)
                return bad(b, fy_node_pair_key(p), "formulas 的每一项应为 键名: 公式");
            l->formulas[l->nformulas].target = t;
            l->formulas[l->nformulas].expr = e;
            l->nformulas++;
        }
    }
    return PS_OK;
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

/* libfyaml materialises a scalar's text lazily and caches it in the token, so reading one
 * mapping's YAML from two threads at once races (a formula's text came back empty under
 * convert -j4). The layout is the only YAML read while files are processed: one at a time. */
static pthread_mutex_t yaml_lock = PTHREAD_MUTEX_INITIALIZER;

ps_status ps_wr_layout_build(const ps_mapping *m, wr_layout **out, ps_error *err)
{
    wr_layout *l = calloc(1, sizeof *l);
    if (!l)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    l->mapping = m;
    builder b = {l, err, m ? ps_mapping_path(m) : NULL};
    ps_status st = PS_OK;
    pthread_mutex_lock(&yaml_lock);
    struct fy_node *sec = m ? ps_mapping_section(m, "layout") : NULL;
    if (sec)
        st = parse_section(&b, sec);
    pthread_mutex_unlock(&yaml_lock);
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
