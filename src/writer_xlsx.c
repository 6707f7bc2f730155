/* writer_xlsx.c - the standardized workbook of one document (`perfsheet convert`); see writer.h.
 * The sheet is planned first (every cell's place, value, fill and comment), then written in
 * row order, then the sheet 校验结果. No cell is a formula: every cell shows the figure the unit
 * submitted, and a figure that disagrees with its derivation is flagged, never recomputed
 * (docs/outputs.md). */
#include "perfsheet/writer.h"

#include "perfsheet/workbook.h"

#include "writer_int.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSG_MAX 2048

typedef enum plan_what { P_LABEL, P_HEADER, P_BLOCK_TITLE, P_LEGEND, P_VALUE } plan_what;

typedef struct plan_cell {
    uint32_t row;
    uint16_t col;
    plan_what what;
    const char *text;  /* labels */
    const char *key;   /* values: key, or column key of a table */
    const char *table; /* values of a table row */
    size_t trow;
    const ps_value *v;         /* NULL when blank */
    const char *src_sheet;     /* the source cell's sheet (a multi-sheet template has several) */
    uint32_t src_row, src_col; /* the source cell: v's, or the blank cell remembered for key;
                                  PS_NO_CELL when none */
    ps_field_type type;
    int sev;       /* values: their findings' highest level; legend: the level shown */
    uint16_t span; /* a text value alone in its row: merged up to this column (0: none) */
    char *comment; /* owned */
} plan_cell;

typedef struct plan {
    const wr_layout *l;
    const ps_document *doc;
    plan_cell *cells;
    size_t n, cap;
    uint32_t row;
    uint16_t ncols;
    int title_sev;       /* findings placed on the title cell: those no value cell shows */
    char *title_comment; /* owned */
    bool nomem;
} plan;

static plan_cell *add_cell(plan *p, uint32_t row, uint16_t col, plan_what what)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        plan_cell *c = realloc(p->cells, cap * sizeof *c);
        if (!c) {
            p->nomem = true;
            return NULL;
        }
        p->cells = c;
        p->cap = cap;
    }
    plan_cell *c = &p->cells[p->n++];
    memset(c, 0, sizeof *c);
    c->row = row;
    c->col = col;
    c->what = what;
    if (col + 1 > p->ncols)
        p->ncols = (uint16_t)(col + 1);
    return c;
}

static void add_label(plan *p, uint32_t row, uint16_t col, plan_what what, const char *text)
{
    plan_cell *c = add_cell(p, row, col, what);
    if (c)
        c->text = text;
}

static void add_value(plan *p, uint32_t row, uint16_t col, const char *key)
{
    plan_cell *c = add_cell(p, row, col, P_VALUE);
    if (!c)
        return;
    c->key = key;
    c->v = ps_document_get(p->doc, key);
    c->type = ps_wr_type(p->l, key, NULL, c->v);
    c->src_row = c->src_col = PS_NO_CELL;
    c->src_sheet = ps_document_sheet(p->doc);
    if (c->v) {
        c->src_row = c->v->row;
        c->src_col = c->v->col;
        c->src_sheet = ps_document_value_sheet(p->doc, c->v);
    } else {
        size_t sheet;
        if (ps_document_blank_cell_on(p->doc, key, &sheet, &c->src_row, &c->src_col) &&
            ps_document_sheet_at(p->doc, sheet))
            c->src_sheet = ps_document_sheet_at(p->doc, sheet);
    }
}

static bool key_in_plan(const plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->cells[i].what == P_VALUE && !p->cells[i].table && strcmp(p->cells[i].key, key) == 0)
            return true;
    return false;
}

static void plan_fields(plan *p, const wr_block *blk)
{
    for (size_t i = 0; i < blk->nrows; i++) {
        add_label(p, p->row, 0, P_LABEL, blk->rows[i].label);
        add_value(p, p->row, 1, blk->rows[i].key);
        p->row++;
    }
}

static void plan_grid(plan *p, const wr_block *blk, ps_arena *a)
{
    add_label(p, p->row, 0, P_HEADER, "项目");
    for (size_t c = 0; c < blk->ncols; c++)
        add_label(p, p->row, (uint16_t)(c + 1), P_HEADER, blk->cols[c].label);
    p->row++;
    for (size_t r = 0; r < blk->nrows; r++) {
        add_label(p, p->row, 0, P_LABEL, blk->rows[r].label);
        for (size_t c = 0; c < blk->ncols; c++) {
            size_t len = strlen(blk->rows[r].key) + strlen(blk->cols[c].key) + 2;
            char *key = ps_arena_alloc(a, len);
            if (!key) {
                p->nomem = true;
                return;
            }
            snprintf(key, len, "%s.%s", blk->rows[r].key, blk->cols[c].key);
            add_value(p, p->row, (uint16_t)(c + 1), key);
        }
        p->row++;
    }
}

static void plan_table(plan *p, const char *name, const wr_item *cols, size_t ncols)
{
    const ps_table *t = ps_document_table(p->doc, name);
    size_t rows = t ? ps_table_row_count(t) : 0;
    for (size_t c = 0; c < ncols && c < 16000; c++)
        add_label(p, p->row, (uint16_t)c, P_HEADER, cols[c].label);
    p->row++;
    for (size_t r = 0; r < rows && p->row < LXW_ROW_MAX - 2; r++) {
        for (size_t c = 0; c < ncols && c < 16000; c++) {
            plan_cell *pc = add_cell(p, p->row, (uint16_t)c, P_VALUE);
            if (!pc)
                return;
            pc->key = cols[c].key;
            pc->table = name;
            pc->trow = r;
            pc->v = ps_table_get(t, r, cols[c].key);
            pc->type = ps_wr_type(p->l, cols[c].key, name, pc->v);
            pc->src_row = pc->v ? pc->v->row : PS_NO_CELL;
            pc->src_col = pc->v ? pc->v->col : PS_NO_CELL;
            pc->src_sheet = ps_document_value_sheet(p->doc, pc->v);
        }
        p->row++;
    }
}

/* The first value cell showing source cell a1 of f's sheet, or NULL. */
static const plan_cell *cell_of_finding(const plan *p, const ps_finding *f)
{
    uint32_t r, c;
    if (!f->cell || !ps_cell_ref_parse(f->cell, &r, &c))
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        const plan_cell *pc = &p->cells[i];
        if (pc->what == P_VALUE && pc->src_row == r && pc->src_col == c &&
            !(f->sheet && pc->src_sheet && strcmp(f->sheet, pc->src_sheet) != 0))
            return pc;
    }
    return NULL;
}

/* Fills and comments of value cells whose source cell (or remembered blank cell) has findings;
 * a finding no value cell shows goes on the title cell, so that each finding is at a
 * commented cell. */
static void plan_findings(plan *p)
{
    const ps_findings *fl = ps_document_findings_const(p->doc);
    if (!fl || ps_findings_count(fl) == 0)
        return;
    const char *sheet = ps_document_sheet(p->doc);
    char msg[MSG_MAX];
    for (size_t i = 0; i < p->n; i++) {
        plan_cell *c = &p->cells[i];
        if (c->what != P_VALUE || c->src_row == PS_NO_CELL)
            continue;
        msg[0] = '\0';
        c->sev = ps_wr_cell_severity(fl, c->src_sheet ? c->src_sheet : sheet, c->src_row, c->src_col, msg,
                                     sizeof msg);
        ps_wr_sanitize(msg);
        if (c->sev && !(c->comment = strdup(msg)))
            p->nomem = true;
    }
    msg[0] = '\0';
    for (size_t i = 0; i < ps_findings_count(fl); i++) {
        const ps_finding *f = ps_findings_at(fl, i);
        if (cell_of_finding(p, f))
            continue;
        char line[MSG_MAX] = "";
        ps_wr_comment_line(f, line, sizeof line);
        if (f->cell) {
            size_t used = strlen(line);
            snprintf(line + used, sizeof line - used, "（源单元格 %s!%s）", f->sheet ? f->sheet : sheet,
                     f->cell);
            ps_wr_utf8_trim_tail(line);
        }
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof msg - used, "%s%s", used ? "\n" : "", line);
        ps_wr_utf8_trim_tail(msg);
        if ((int)f->severity + 1 > p->title_sev)
            p->title_sev = (int)f->severity + 1;
    }
    if (p->title_sev) {
        ps_wr_sanitize(msg);
        if (!(p->title_comment = strdup(msg)))
            p->nomem = true;
    }
}

static ps_status build_plan(plan *p, ps_arena *a)
{
    const wr_layout *l = p->l;
    /* row 0: title; row 1: what the fills mean */
    add_label(p, 1, 0, P_LABEL, "标色说明（详见批注）");
    static const char *const legend[] = {"提示", "警告", "错误"};
    for (int k = 3; k >= 1; k--) {
        plan_cell *c = add_cell(p, 1, (uint16_t)(4 - k), P_LEGEND);
        if (c) {
            c->text = legend[k - 1];
            c->sev = k;
        }
    }
    p->row = 2;
    for (size_t i = 0; i < l->nheader; i++) {
        add_label(p, p->row, 0, P_LABEL, l->header[i].label);
        add_value(p, p->row, 1, l->header[i].key);
        p->row++;
    }
    for (size_t b = 0; b < l->nblocks && !p->nomem; b++) {
        const wr_block *blk = &l->blocks[b];
        p->row++; /* a blank row between blocks */
        if (blk->title)
            add_label(p, p->row++, 0, P_BLOCK_TITLE, blk->title);
        if (blk->kind == WR_FIELDS)
            plan_fields(p, blk);
        else if (blk->kind == WR_GRID)
            plan_grid(p, blk, a);
        else
            plan_table(p, blk->table, blk->rows, blk->nrows);
    }
    /* Values the layout does not know (a mapping with extra keys): under 其他. */
    bool other = false;
    for (size_t i = 0; i < ps_document_value_count(p->doc) && !p->nomem; i++) {
        const char *key = ps_document_value_key(p->doc, i);
        if (key_in_plan(p, key))
            continue;
        if (!other) {
            p->row++;
            add_label(p, p->row++, 0, P_BLOCK_TITLE, "其他");
            other = true;
        }
        add_label(p, p->row, 0, P_LABEL, ps_wr_label(l, key, NULL));
        add_value(p, p->row, 1, key);
        p->row++;
    }
    /* Tables the layout does not know: their own columns. */
    for (size_t i = 0; i < ps_document_table_count(p->doc) && !p->nomem; i++) {
        const ps_table *t = ps_document_table_at(p->doc, i);
        const char *name = ps_table_name(t);
        bool known = false;
        for (size_t b = 0; b < l->nblocks; b++)
            if (l->blocks[b].kind == WR_TABLE && strcmp(l->blocks[b].table, name) == 0)
                known = true;
        if (known || ps_table_column_count(t) == 0)
            continue;
        size_t nc = ps_table_column_count(t);
        wr_item *cols = ps_arena_alloc(a, nc * sizeof *cols);
        if (!cols) {
            p->nomem = true;
            break;
        }
        for (size_t c = 0; c < nc; c++)
            cols[c] = (wr_item){ps_table_column(t, c), ps_wr_label(l, ps_table_column(t, c), name)};
        p->row++;
        add_label(p, p->row++, 0, P_BLOCK_TITLE, name);
        plan_table(p, name, cols, nc);
    }
    if (p->ncols < 2)
        p->ncols = 2;
    if (!p->nomem)
        plan_findings(p);
    return p->nomem ? PS_ERR_NOMEM : PS_OK;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->cells[i].comment);
    free(p->cells);
    free(p->title_comment);
}

#define LABEL_WIDTH 34
#define VALUE_WIDTH 16

/* The text a cell shows when it is written as a string (labels, text values), else NULL. */
static const char *shown_text(const plan_cell *c)
{
    if (c->what != P_VALUE)
        return c->text;
    if (!c->v)
        return NULL;
    wr_kind k = ps_wr_kind_of(c->type);
    if (k != WR_K_TEXT || (c->type == PS_TYPE_TARGET && c->v->has_number && !c->v->comparator))
        return NULL;
    return c->v->text ? c->v->text : c->v->raw;
}

/* Long text values alone in their row span the sheet's width; every row gets the height its
 * wrapped text needs. heights[row] in lines. */
static void plan_text_layout(plan *p, unsigned *lines)
{
    for (size_t i = 0; i < p->n; i++) {
        plan_cell *c = &p->cells[i];
        const char *t = shown_text(c);
        if (c->what == P_VALUE && c->col == 1 && p->ncols > 2 && t && ps_wr_text_lines(t, VALUE_WIDTH) > 1) {
            bool alone = true;
            for (size_t j = 0; j < p->n && alone; j++)
                alone = !(p->cells[j].row == c->row && p->cells[j].col > 1);
            if (alone)
                c->span = (uint16_t)(p->ncols - 1);
        }
        if (c->what == P_BLOCK_TITLE || c->what == P_LEGEND)
            continue;
        double width = c->col == 0 ? LABEL_WIDTH : c->span ? VALUE_WIDTH * (c->span) : VALUE_WIDTH;
        unsigned n = ps_wr_text_lines(t, width);
        if (n > lines[c->row])
            lines[c->row] = n;
    }
}

static lxw_error write_cell(lxw_worksheet *ws, const plan_cell *c, wr_formats *fm)
{
    switch (c->what) {
    case P_LABEL:
        return ps_wr_write_string(ws, c->row, c->col, c->text ? c->text : "",
                                  ps_wr_format(fm, WR_K_LABEL, 0));
    case P_HEADER:
        return ps_wr_write_string(ws, c->row, c->col, c->text ? c->text : "",
                                  ps_wr_format(fm, WR_K_HEADER, 0));
    case P_BLOCK_TITLE:
        return ps_wr_write_string(ws, c->row, c->col, c->text ? c->text : "",
                                  ps_wr_format(fm, WR_K_TOTAL, 0));
    case P_LEGEND:
        return ps_wr_write_string(ws, c->row, c->col, c->text, ps_wr_format(fm, WR_K_HEADER, c->sev));
    case P_VALUE: break;
    }
    lxw_error e = LXW_NO_ERROR;
    if (c->span)
        e = worksheet_merge_range(ws, c->row, c->col, c->row, c->span, "",
                                  ps_wr_format(fm, WR_K_TEXT, c->sev));
    if (e == LXW_NO_ERROR)
        e = ps_wr_write_value(ws, c->row, c->col, c->v, c->type, fm, c->sev);
    if (e == LXW_NO_ERROR && c->comment)
        e = ps_wr_write_comment(ws, c->row, c->col, c->comment);
    return e;
}

/* An expected or actual value in the number format of the cell it is about. */
static void write_scalar(lxw_worksheet *ws, uint32_t row, uint16_t col, const ps_scalar *s, wr_formats *fm,
                         wr_kind kind)
{
    if (s->kind == PS_SCALAR_NUMBER && isfinite(s->number))
        worksheet_write_number(ws, row, col, s->number, ps_wr_format(fm, kind, 0));
    else if (s->kind == PS_SCALAR_TEXT && s->text)
        ps_wr_write_string(ws, row, col, s->text, ps_wr_format(fm, WR_K_TEXT, 0));
    else
        worksheet_write_blank(ws, row, col, ps_wr_format(fm, WR_K_TEXT, 0));
}

/* "internal:'<sheet>'!<A1>" of a cell of sheet, apostrophes doubled. */
static void internal_link(const char *sheet, uint32_t row, uint16_t col, char *buf, size_t size)
{
    char quoted[2 * WRITER_SHEET_BYTES + 8], a1[20];
    size_t o = 0;
    for (const char *s = sheet; *s && o + 3 < sizeof quoted; s++) {
        if (*s == '\'')
            quoted[o++] = '\'';
        quoted[o++] = *s;
    }
    quoted[o] = '\0';
    snprintf(buf, size, "internal:'%s'!%s", quoted, ps_cell_ref(row, col, a1, sizeof a1));
}

static lxw_error write_findings_sheet(lxw_workbook *wb, const plan *p, const char *data_sheet, wr_formats *fm)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, "校验结果");
    if (!ws)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    static const char *const heads[] = {"严重程度",     "规则", "工作表", "源单元格",
                                        "标准表单元格", "说明", "期望值", "实际值"};
    static const double widths[] = {9, 20, 12, 9, 16, 72, 12, 12};
    for (uint16_t c = 0; c < 8; c++) {
        ps_wr_write_string(ws, 0, c, heads[c], ps_wr_format(fm, WR_K_HEADER, 0));
        worksheet_set_column(ws, c, c, widths[c], NULL);
    }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_repeat_rows(ws, 0, 0);
    const ps_findings *fl = ps_document_findings_const(p->doc);
    size_t n = fl ? ps_findings_count(fl) : 0;
    lxw_format *text = ps_wr_format(fm, WR_K_TEXT, 0);
    for (size_t i = 0; i < n && i < LXW_ROW_MAX - 2; i++) {
        const ps_finding *f = ps_findings_at(fl, i);
        uint32_t r = (uint32_t)i + 1;
        int sev = (int)f->severity + 1;
        ps_wr_write_string(ws, r, 0, ps_wr_severity_label(f->severity), ps_wr_format(fm, WR_K_TEXT, sev));
        ps_wr_write_string(ws, r, 1, f->rule, text);
        ps_wr_write_string(ws, r, 2, f->sheet ? f->sheet : "", text);
        ps_wr_write_string(ws, r, 3, f->cell ? f->cell : "", text);
        /* the cell that shows it: its value cell, else the title cell that lists it */
        const plan_cell *pc = cell_of_finding(p, f);
        uint32_t tr = pc ? pc->row : 0;
        uint16_t tc = pc ? pc->col : 0;
        char url[2 * WRITER_SHEET_BYTES + 64], shown[WRITER_SHEET_BYTES + 32], a1[20];
        internal_link(data_sheet, tr, tc, url, sizeof url);
        snprintf(shown, sizeof shown, "%s!%s", data_sheet, ps_cell_ref(tr, tc, a1, sizeof a1));
        if (worksheet_write_url_opt(ws, r, 4, url, ps_wr_format(fm, WR_K_LINK, 0), shown, "转到该单元格") !=
            LXW_NO_ERROR)
            ps_wr_write_string(ws, r, 4, shown, text); /* beyond Excel's 65,530 links */
        ps_wr_write_string(ws, r, 5, f->message, text);
        if (ps_wr_text_lines(f->message, widths[5]) > 1)
            worksheet_set_row(ws, r, ps_wr_row_height(ps_wr_text_lines(f->message, widths[5])), NULL);
        wr_kind kind = pc ? ps_wr_kind_of(pc->type) : WR_K_NUMBER;
        if (kind == WR_K_TEXT || kind == WR_K_DATE)
            kind = WR_K_NUMBER;
        write_scalar(ws, r, 6, &f->expected, fm, kind);
        write_scalar(ws, r, 7, &f->actual, fm, kind);
    }
    if (n)
        worksheet_autofilter(ws, 0, 0, (lxw_row_t)(n < LXW_ROW_MAX - 2 ? n : LXW_ROW_MAX - 2), 7);
    return LXW_NO_ERROR;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a || !b || !*a || !*b || stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

ps_status ps_writer_convert(const ps_mapping *m, const ps_document *doc, const char *path, ps_error *err)
{
    if (!doc || !path || !*path)
        return ps_error_set(err, PS_ERR_USAGE, path, "ps_writer_convert: 缺少文档或输出路径");
    if (same_file(path, ps_document_file(doc)))
        return ps_error_set(err, PS_ERR_IO, path, "输出文件与输入文件相同，拒绝覆盖输入");
    wr_layout *l = NULL;
    ps_status st = ps_wr_layout_build(m, &l, err);
    if (st != PS_OK)
        return st;
    ps_arena arena = {0};
    plan p = {.l = l, .doc = doc};
    st = build_plan(&p, &arena);
    if (st != PS_OK) {
        plan_free(&p);
        ps_arena_release(&arena);
        ps_wr_layout_free(l);
        return ps_error_set(err, PS_ERR_NOMEM, path, "内存不足");
    }

    char tmp[PATH_MAX + 128];
    ps_wr_temp_path(path, tmp, sizeof tmp);
    lxw_workbook *wb = ps_wr_workbook_new(tmp, false, l->title, err);
    if (!wb) {
        plan_free(&p);
        ps_arena_release(&arena);
        ps_wr_layout_free(l);
        return err ? err->code : PS_ERR_IO;
    }
    wr_formats fm = {.wb = wb};
    char sheet[WRITER_SHEET_BYTES + 8];
    ps_writer_sheet_name(l->sheet, sheet, sizeof sheet);
    if (strcmp(sheet, "校验结果") == 0)
        snprintf(sheet, sizeof sheet, "数据");
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet);
    lxw_error e = ws ? LXW_NO_ERROR : LXW_ERROR_MEMORY_MALLOC_FAILED;
    if (ws) {
        worksheet_set_comments_author(ws, "perfsheet");
        worksheet_set_column(ws, 0, 0, LABEL_WIDTH, NULL);
        worksheet_set_column(ws, 1, p.ncols > 1 ? p.ncols - 1 : 1, VALUE_WIDTH, NULL);
        unsigned *lines = calloc(p.row + 1, sizeof *lines);
        if (!lines)
            e = LXW_ERROR_MEMORY_MALLOC_FAILED;
        else
            plan_text_layout(&p, lines);
        for (uint32_t r = 2; lines && r <= p.row; r++)
            if (lines[r] > 1)
                worksheet_set_row(ws, r, ps_wr_row_height(lines[r]), NULL);
        free(lines);
        worksheet_set_paper(ws, 9); /* A4, one page wide */
        worksheet_fit_to_pages(ws, 1, 0);
        if (p.ncols > 5)
            worksheet_set_landscape(ws);
        if (e == LXW_NO_ERROR && p.ncols > 1)
            e = worksheet_merge_range(ws, 0, 0, 0, (lxw_col_t)(p.ncols - 1), l->title,
                                      ps_wr_format(&fm, WR_K_TITLE, p.title_sev));
        else if (e == LXW_NO_ERROR)
            e = ps_wr_write_string(ws, 0, 0, l->title, ps_wr_format(&fm, WR_K_TITLE, p.title_sev));
        if (e == LXW_NO_ERROR && p.title_comment)
            e = ps_wr_write_comment(ws, 0, 0, p.title_comment);
        for (size_t i = 0; i < p.n && e == LXW_NO_ERROR; i++)
            e = write_cell(ws, &p.cells[i], &fm);
    }
    if (e == LXW_NO_ERROR)
        e = write_findings_sheet(wb, &p, sheet, &fm);
    plan_free(&p);
    ps_arena_release(&arena);
    ps_wr_layout_free(l);
    if (e != LXW_NO_ERROR) {
        workbook_close(wb);
        unlink(tmp);
        return ps_error_set(err, PS_ERR_IO, path, "无法写入工作簿：%s", lxw_strerror(e));
    }
    return ps_wr_workbook_commit(wb, tmp, path, err);
}
