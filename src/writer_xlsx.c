/* writer_xlsx.c - the standardized workbook of one document (`perfsheet convert`); see writer.h.
 * The sheet is planned first (every cell's place, value, formula, fill and comment), then
 * written in row order, then the sheet 校验结果. */
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

typedef enum plan_what { P_LABEL, P_HEADER, P_BLOCK_TITLE, P_VALUE } plan_what;

typedef struct plan_cell {
    uint32_t row;
    uint16_t col;
    plan_what what;
    const char *text;  /* labels */
    const char *key;   /* values: key, or column key of a table */
    const char *table; /* values of a table row */
    size_t trow;
    const ps_value *v; /* NULL when blank */
    ps_field_type type;
    char *formula; /* owned; "=B7+B9" */
    double cached;
    int sev;
    char *comment; /* owned */
} plan_cell;

typedef struct plan_range { /* a table column in the output, for sum(table.column) */
    const char *table, *key;
    uint16_t col;
    uint32_t first, last; /* rows; last < first when the table is empty */
} plan_range;

typedef struct plan {
    const wr_layout *l;
    const ps_document *doc;
    plan_cell *cells;
    size_t n, cap;
    plan_range *ranges;
    size_t nranges, range_cap;
    uint32_t row;
    uint16_t ncols;
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
    for (size_t c = 0; c < ncols && c < 16000; c++) {
        if (p->nranges == p->range_cap) {
            size_t cap = p->range_cap ? p->range_cap * 2 : 16;
            plan_range *r = realloc(p->ranges, cap * sizeof *r);
            if (!r) {
                p->nomem = true;
                return;
            }
            p->ranges = r;
            p->range_cap = cap;
        }
        p->ranges[p->nranges++] =
            (plan_range){name, cols[c].key, (uint16_t)c, p->row, (uint32_t)(p->row + rows) - 1};
    }
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
        }
        p->row++;
    }
}

/* ---- formulas: a small expression language over keys (see writer_layout.c) ---- */

typedef struct expr_ctx {
    const plan *p;
    const char *s;
    size_t pos;
    char out[1024];
    size_t olen;
    bool ok;  /* every operand resolved, no division by zero */
    bool bad; /* a syntax error: parsing stops */
    bool any; /* some operand has a value */
    int depth;
} expr_ctx;

static void emit(expr_ctx *e, const char *s)
{
    size_t n = strlen(s);
    if (e->olen + n + 1 > sizeof e->out) {
        e->bad = true;
        return;
    }
    memcpy(e->out + e->olen, s, n + 1);
    e->olen += n;
}

static void skip_ws(expr_ctx *e)
{
    while (e->s[e->pos] == ' ' || e->s[e->pos] == '\t')
        e->pos++;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '[' || c == ']';
}

static const plan_cell *find_key(const plan *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->cells[i].what == P_VALUE && !p->cells[i].table && strcmp(p->cells[i].key, key) == 0)
            return &p->cells[i];
    return NULL;
}

static const plan_range *find_range(const plan *p, const char *ident)
{
    for (size_t i = 0; i < p->nranges; i++) {
        size_t tl = strlen(p->ranges[i].table);
        if (strncmp(ident, p->ranges[i].table, tl) == 0 && ident[tl] == '.' &&
            strcmp(ident + tl + 1, p->ranges[i].key) == 0)
            return &p->ranges[i];
    }
    return NULL;
}

static double expr_sum(expr_ctx *e);

/* coalesce(x, y, …) after its "(": the first argument that is valid and has a value; only
 * that argument goes into the formula. */
static double expr_coalesce(expr_ctx *e)
{
    bool chosen = false;
    double value = 0;
    for (;;) {
        if (e->depth > 32) {
            e->bad = true;
            return 0;
        }
        expr_ctx sub = {.p = e->p, .s = e->s, .pos = e->pos, .ok = true, .depth = e->depth + 1};
        double v = expr_sum(&sub);
        e->pos = sub.pos;
        if (sub.bad) {
            e->bad = true;
            return 0;
        }
        if (!chosen && sub.ok && sub.any) {
            chosen = true;
            value = v;
            emit(e, "(");
            emit(e, sub.out);
            emit(e, ")");
            e->any = true;
        }
        skip_ws(e);
        char c = e->s[e->pos];
        if (c == ',') {
            e->pos++;
            continue;
        }
        if (c == ')') {
            e->pos++;
            break;
        }
        e->bad = true;
        return 0;
    }
    if (!chosen)
        e->ok = false;
    return value;
}

/* A key or table column: emits its reference, returns its value (blank = 0). */
static double expr_ident(expr_ctx *e, const char *ident, bool in_sum)
{
    char ref[40];
    const plan_cell *c = find_key(e->p, ident);
    if (c) {
        ps_cell_ref(c->row, c->col, ref, sizeof ref);
        emit(e, ref);
        if (c->v && c->v->has_number) {
            e->any = true;
            return c->v->number;
        }
        return 0;
    }
    const plan_range *r = in_sum ? find_range(e->p, ident) : NULL;
    if (r && r->last >= r->first) {
        char a[20], b[20];
        snprintf(ref, sizeof ref, "%s:%s", ps_cell_ref(r->first, r->col, a, sizeof a),
                 ps_cell_ref(r->last, r->col, b, sizeof b));
        emit(e, ref);
        const ps_table *t = ps_document_table(e->p->doc, r->table);
        double sum = 0;
        for (size_t i = 0; t && i < ps_table_row_count(t); i++) {
            const ps_value *v = ps_table_get(t, i, r->key);
            if (v && v->has_number) {
                sum += v->number;
                e->any = true;
            }
        }
        return sum;
    }
    e->ok = false; /* unknown key, or an empty table */
    return 0;
}

static double expr_factor(expr_ctx *e)
{
    skip_ws(e);
    const char *s = e->s + e->pos;
    if (*s == '(') {
        if (++e->depth > 32) {
            e->bad = true;
            return 0;
        }
        e->pos++;
        emit(e, "(");
        double v = expr_sum(e);
        skip_ws(e);
        if (e->s[e->pos] != ')') {
            e->bad = true;
            return 0;
        }
        e->pos++;
        e->depth--;
        emit(e, ")");
        return v;
    }
    if (*s == '-') {
        if (++e->depth > 32) {
            e->bad = true;
            return 0;
        }
        e->pos++;
        emit(e, "-");
        double v = -expr_factor(e);
        e->depth--;
        return v;
    }
    if (isdigit((unsigned char)*s)) {
        char *end;
        double v = strtod(s, &end);
        char num[64];
        snprintf(num, sizeof num, "%.*s", (int)(end - s), s);
        emit(e, num);
        e->pos += (size_t)(end - s);
        return v;
    }
    size_t n = 0;
    while (ident_char(s[n]))
        n++;
    if (n == 0 || n >= 256) {
        e->bad = true;
        return 0;
    }
    char ident[256];
    memcpy(ident, s, n);
    ident[n] = '\0';
    e->pos += n;
    skip_ws(e);
    if (strcmp(ident, "coalesce") == 0 && e->s[e->pos] == '(') {
        e->pos++;
        return expr_coalesce(e);
    }
    if (strcmp(ident, "sum") == 0 && e->s[e->pos] == '(') {
        e->pos++;
        emit(e, "SUM(");
        double total = 0;
        for (;;) {
            skip_ws(e);
            const char *a = e->s + e->pos;
            size_t an = 0;
            while (ident_char(a[an]))
                an++;
            if (an == 0 || an >= sizeof ident) {
                e->bad = true;
                return 0;
            }
            memcpy(ident, a, an);
            ident[an] = '\0';
            e->pos += an;
            total += expr_ident(e, ident, true);
            skip_ws(e);
            if (e->s[e->pos] == ',') {
                e->pos++;
                emit(e, ",");
                continue;
            }
            if (e->s[e->pos] == ')') {
                e->pos++;
                emit(e, ")");
                return total;
            }
            e->bad = true;
            return 0;
        }
    }
    return expr_ident(e, ident, false);
}

static double expr_product(expr_ctx *e)
{
    double v = expr_factor(e);
    for (;;) {
        skip_ws(e);
        char op = e->s[e->pos];
        if (e->bad || (op != '*' && op != '/'))
            return v;
        e->pos++;
        emit(e, op == '*' ? "*" : "/");
        double r = expr_factor(e);
        if (op == '*')
            v *= r;
        else if (r == 0)
            e->ok = false; /* would show #DIV/0! */
        else
            v /= r;
    }
}

static double expr_sum(expr_ctx *e)
{
    double v = expr_product(e);
    for (;;) {
        skip_ws(e);
        char op = e->s[e->pos];
        if (e->bad || (op != '+' && op != '-'))
            return v;
        e->pos++;
        emit(e, op == '+' ? "+" : "-");
        double r = expr_product(e);
        v = op == '+' ? v + r : v - r;
    }
}

/* Replaces every ".*" of s by "." suffix into buf. */
static bool expand_star(const char *s, const char *suffix, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        const char *piece = (s[i] == '*' && i > 0 && s[i - 1] == '.') ? suffix : NULL;
        size_t n = piece ? strlen(piece) : 1;
        if (o + n + 1 > size)
            return false;
        memcpy(buf + o, piece ? piece : s + i, n);
        o += n;
    }
    buf[o] = '\0';
    return true;
}

static void apply_formula(plan *p, const char *target, const char *expr)
{
    plan_cell *c = (plan_cell *)find_key(p, target);
    if (!c || c->formula)
        return;
    expr_ctx e = {.p = p, .s = expr, .ok = true};
    emit(&e, "=");
    double v = expr_sum(&e);
    skip_ws(&e);
    if (!e.ok || e.bad || e.s[e.pos] != '\0' || !e.any || !isfinite(v))
        return;
    if (!(c->formula = strdup(e.out))) {
        p->nomem = true;
        return;
    }
    /* The cached value is the document's as written, so a wrong total shows as it was. */
    c->cached = c->v && c->v->has_number && isfinite(c->v->number) ? c->v->number : v;
}

static void plan_formulas(plan *p)
{
    const wr_layout *l = p->l;
    for (size_t i = 0; i < l->nformulas; i++) {
        const wr_formula *f = &l->formulas[i];
        if (!strstr(f->target, ".*")) {
            apply_formula(p, f->target, f->expr);
            continue;
        }
        for (size_t b = 0; b < l->nblocks; b++) {
            if (l->blocks[b].kind != WR_GRID)
                continue;
            for (size_t c = 0; c < l->blocks[b].ncols; c++) {
                char t[256], x[1024];
                const char *suffix = l->blocks[b].cols[c].key;
                if (expand_star(f->target, suffix, t, sizeof t) && expand_star(f->expr, suffix, x, sizeof x))
                    apply_formula(p, t, x);
            }
        }
    }
}

/* Fills and comments of value cells whose source cell has findings. */
static void plan_findings(plan *p)
{
    const ps_findings *fl = ps_document_findings_const(p->doc);
    if (!fl || ps_findings_count(fl) == 0)
        return;
    const char *sheet = ps_document_sheet(p->doc);
    char msg[MSG_MAX];
    for (size_t i = 0; i < p->n; i++) {
        plan_cell *c = &p->cells[i];
        if (c->what != P_VALUE || !c->v || c->v->row == PS_NO_CELL)
            continue;
        msg[0] = '\0';
        c->sev = ps_wr_cell_severity(fl, sheet, c->v->row, c->v->col, msg, sizeof msg);
        ps_wr_sanitize(msg);
        if (c->sev && !(c->comment = strdup(msg)))
            p->nomem = true;
    }
}

static const plan_cell *cell_of_source(const plan *p, const char *a1)
{
    uint32_t r, c;
    if (!a1 || !ps_cell_ref_parse(a1, &r, &c))
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        const plan_cell *pc = &p->cells[i];
        if (pc->what == P_VALUE && pc->v && pc->v->row == r && pc->v->col == c)
            return pc;
    }
    return NULL;
}

static ps_status build_plan(plan *p, ps_arena *a)
{
    const wr_layout *l = p->l;
    p->row = 1; /* row 0: title */
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
        plan_formulas(p);
    if (!p->nomem)
        plan_findings(p);
    return p->nomem ? PS_ERR_NOMEM : PS_OK;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->cells[i].formula);
        free(p->cells[i].comment);
    }
    free(p->cells);
    free(p->ranges);
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
    case P_VALUE: break;
    }
    lxw_error e;
    if (c->formula) {
        wr_kind k = ps_wr_kind_of(c->type);
        if (k == WR_K_TEXT || k == WR_K_DATE)
            k = WR_K_NUMBER;
        e = worksheet_write_formula_num(ws, c->row, c->col, c->formula, ps_wr_format(fm, k, c->sev),
                                        c->cached);
    } else {
        e = ps_wr_write_value(ws, c->row, c->col, c->v, c->type, fm, c->sev);
    }
    if (e == LXW_NO_ERROR && c->comment)
        e = worksheet_write_comment(ws, c->row, c->col, c->comment);
    return e;
}

static void write_scalar(lxw_worksheet *ws, uint32_t row, uint16_t col, const ps_scalar *s, lxw_format *f)
{
    if (s->kind == PS_SCALAR_NUMBER)
        worksheet_write_number(ws, row, col, s->number, f);
    else if (s->kind == PS_SCALAR_TEXT && s->text)
        ps_wr_write_string(ws, row, col, s->text, f);
    else
        worksheet_write_blank(ws, row, col, f);
}

static lxw_error write_findings_sheet(lxw_workbook *wb, const plan *p, const char *data_sheet, wr_formats *fm)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, "校验结果");
    if (!ws)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    static const char *const heads[] = {"严重程度",     "规则", "工作表", "源单元格",
                                        "标准表单元格", "说明", "期望值", "实际值"};
    static const double widths[] = {10, 22, 14, 10, 14, 70, 14, 14};
    for (uint16_t c = 0; c < 8; c++) {
        ps_wr_write_string(ws, 0, c, heads[c], ps_wr_format(fm, WR_K_HEADER, 0));
        worksheet_set_column(ws, c, c, widths[c], NULL);
    }
    worksheet_freeze_panes(ws, 1, 0);
    const ps_findings *fl = ps_document_findings_const(p->doc);
    size_t n = fl ? ps_findings_count(fl) : 0;
    lxw_format *text = ps_wr_format(fm, WR_K_TEXT, 0), *num = ps_wr_format(fm, WR_K_NUMBER, 0);
    for (size_t i = 0; i < n && i < LXW_ROW_MAX - 2; i++) {
        const ps_finding *f = ps_findings_at(fl, i);
        uint32_t r = (uint32_t)i + 1;
        int sev = (int)f->severity + 1;
        ps_wr_write_string(ws, r, 0, ps_severity_name(f->severity), ps_wr_format(fm, WR_K_TEXT, sev));
        ps_wr_write_string(ws, r, 1, f->rule, text);
        ps_wr_write_string(ws, r, 2, f->sheet ? f->sheet : "", text);
        ps_wr_write_string(ws, r, 3, f->cell ? f->cell : "", text);
        const plan_cell *pc = cell_of_source(p, f->cell);
        char ref[80] = "";
        if (pc) {
            char a1[20];
            snprintf(ref, sizeof ref, "%s!%s", data_sheet, ps_cell_ref(pc->row, pc->col, a1, sizeof a1));
        }
        ps_wr_write_string(ws, r, 4, ref, text);
        ps_wr_write_string(ws, r, 5, f->message, text);
        write_scalar(ws, r, 6, &f->expected, num);
        write_scalar(ws, r, 7, &f->actual, num);
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
        worksheet_set_column(ws, 0, 0, 34, NULL);
        worksheet_set_column(ws, 1, p.ncols > 1 ? p.ncols - 1 : 1, 16, NULL);
        if (p.ncols > 1)
            e = worksheet_merge_range(ws, 0, 0, 0, (lxw_col_t)(p.ncols - 1), l->title,
                                      ps_wr_format(&fm, WR_K_TITLE, 0));
        else
            e = ps_wr_write_string(ws, 0, 0, l->title, ps_wr_format(&fm, WR_K_TITLE, 0));
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
