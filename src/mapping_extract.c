/* mapping_extract.c - reading one sheet through one mapping: locating each field's cell
 * (fixed address, or anchor label then right / below / offset / header column / regex capture),
 * cleaning the cell into a typed ps_value (clean.h; each normalisation becomes a finding on the
 * document), and the repeated tables (rows between anchors, columns by header, fill-down of
 * merged cells, weights in 「（50分）」 labels, per-block or per-row 分值/得分). */
#include "mapping_int.h"

#include "perfsheet/clean.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct xctx {
    const ps_mapping *m;
    const ps_sheet *sh;
    const map_sheet *ms; /* the sheet's label index, built once per sheet */
    ps_document *doc;
    const char *file, *sheet;
    uint16_t sheet_idx; /* the sheet's index in the document (ps_document_add_sheet) */
    int year;           /* --year, 0 none */
    bool oom;
    bool quiet; /* a filled-down cell read again below its source row: said once, at its first row */
} xctx;

/* A converted value and the heap text its pointers may borrow. */
typedef struct conv {
    ps_value v;
    char *text; /* owned */
    char num[64], iso[16], digits[32];
} conv;

static void conv_release(conv *c)
{
    free(c->text);
    c->text = NULL;
}

/* ---- findings ---------------------------------------------------------------------- */

static void note(xctx *x, const char *rule, ps_severity sev, uint32_t row, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void note(xctx *x, const char *rule, ps_severity sev, uint32_t row, uint32_t col, const char *fmt, ...)
{
    if (x->quiet)
        return;
    char msg[512], ref[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps_cell_ref(row, col, ref, sizeof ref);
    ps_finding *f = ps_findings_add(ps_document_findings(x->doc), rule, sev, x->file, x->sheet, ref, msg);
    if (!f)
        x->oom = true;
}

/* ---- cells to values --------------------------------------------------------------- */

static void format_number(double n, char *buf, size_t size)
{
    if (n == 0)
        n = 0; /* no "-0" */
    snprintf(buf, size, "%.15g", n);
}

static char *trimmed_copy(const char *s)
{
    size_t n = strlen(s) + 1;
    char *out = malloc(n);
    if (out)
        ps_clean_trim(s, out, n);
    return out;
}

/* True for a figure typed with what a number cell would not show: full-width digits or marks
 * (０-９ ， ． －) or thousands separators, and nothing but digits, those, '.', '-' and spaces. */
static bool typed_figure(const char *s)
{
    bool marked = false, digit = false;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p >= '0' && *p <= '9') {
            digit = true;
            p++;
        } else if (*p == '.' || *p == '-' || *p == ' ') {
            p++;
        } else if (*p == ',') {
            marked = true;
            p++;
        } else if (p[0] == 0xEF && p[1] == 0xBC &&
                   ((p[2] >= 0x90 && p[2] <= 0x99) || p[2] == 0x8C || p[2] == 0x8D || p[2] == 0x8E)) {
            marked = true;
            digit |= p[2] >= 0x90;
            p += 3;
        } else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) { /* U+3000 */
            p += 3;
        } else {
            return false;
        }
    }
    return marked && digit;
}

static bool plausible_serial(double n)
{
    return n >= 1 && n < 2958466;
}

/* The canonical text of an alias (`aliases:`) whose key equals text normalised, or NULL. */
static const char *alias_of(const xctx *x, const char *text)
{
    if (!x->m->naliases)
        return NULL;
    size_t n = strlen(text) + 1;
    char buf[512], *norm = n <= sizeof buf ? buf : malloc(n);
    if (!norm)
        return NULL;
    ps_clean_label(text, norm, n);
    const char *to = NULL;
    for (size_t i = 0; i < x->m->naliases && !to; i++)
        if (!strcmp(x->m->alias_from[i], norm))
            to = x->m->alias_to[i];
    if (norm != buf)
        free(norm);
    return to;
}

/* Fills c->v from cell (raw text in cell->text) or from text captured out of the cell's label
 * (captured, already normalised). Returns false when the source is blank. Findings for every
 * normalisation are added to x->doc. */
static bool convert(xctx *x, const ps_cell *cell, const char *captured, uint32_t row, uint32_t col,
                    ps_field_type type, const char *label, conv *c)
{
    memset(c, 0, sizeof *c);
    ps_value *v = &c->v;
    v->sheet = x->sheet_idx;
    v->type = type;
    v->row = row;
    v->col = col;
    v->decimals = 255;
    if (!cell && !captured)
        return false;
    const char *text = NULL; /* the text to interpret, NULL for a plain number */
    double number = 0;
    bool is_number = false, is_date = false;
    if (cell) {
        v->formula = cell->formula;
        v->decimals = cell->decimals;
    }
    if (captured) {
        text = captured;
        v->raw = cell && cell->text ? cell->text : NULL;
    } else {
        switch ((ps_cell_type)cell->type) {
        case PS_CELL_BLANK: return false;
        case PS_CELL_NUMBER:
        case PS_CELL_BOOL:
            number = cell->number;
            is_number = true;
            is_date = cell->format == PS_FMT_DATE;
            break;
        case PS_CELL_DATE:
            number = cell->number;
            is_number = is_date = true;
            break;
        case PS_CELL_TEXT:
        case PS_CELL_ERROR:
            if (!cell->text || ps_clean_is_blank(cell->text))
                return false;
            text = cell->text;
            v->raw = cell->text;
            break;
        }
    }
    if (text && ps_clean_is_blank(text))
        return false;
    if (text) {
        c->text = trimmed_copy(text);
        if (!c->text) {
            x->oom = true;
            return false;
        }
    }

    switch (type) {
    case PS_TYPE_TEXT:
    case PS_TYPE_GRADE:
    case PS_TYPE_PHONE:
        if (text) {
            v->text = c->text;
            /* a known misspelling (可持续影响招标) reads as its label; raw keeps what was typed */
            const char *canon = type == PS_TYPE_TEXT ? alias_of(x, c->text) : NULL;
            if (canon) {
                note(x, "clean.alias", PS_SEV_INFO, row, col, "“%s”按“%s”读取", c->text, canon);
                if (!v->raw)
                    v->raw = cell && cell->text ? cell->text : NULL;
                v->text = canon;
            }
        } else {
            format_number(number, c->num, sizeof c->num);
            v->text = c->num;
        }
        return true;
    case PS_TYPE_TARGET:
        if (text) {
            ps_cleaned cl = ps_clean_target(c->text);
            v->text = c->text;
            if (cl.ok) {
                v->has_number = true;
                v->number = cl.number;
            }
            if (cl.comparator[0]) {
                snprintf(c->digits, sizeof c->digits, "%s", cl.comparator);
                v->comparator = c->digits;
            }
            /* a bare figure typed with full-width digits or separators (「５７４１」, 「7,108」) is
             * the figure 5741, 7108, as from a number cell - and said so */
            ps_cleaned fig = ps_clean_number(c->text);
            if (cl.ok && !cl.comparator[0] && fig.ok && !fig.percent && typed_figure(c->text)) {
                format_number(fig.number, c->num, sizeof c->num);
                note(x, "clean.number", PS_SEV_INFO, row, col, "%s：%s'%s'", label,
                     fig.message ? fig.message : "数值已规范化", v->raw ? v->raw : c->text);
                v->text = c->num;
            }
        } else {
            format_number(number, c->num, sizeof c->num);
            v->text = c->num;
            v->has_number = true;
            v->number = number;
        }
        return true;
    case PS_TYPE_DATE:
        if (is_number) {
            if (plausible_serial(number) && ps_clean_date_serial(number, c->iso, sizeof c->iso)) {
                v->text = c->iso;
                return true;
            }
            format_number(number, c->num, sizeof c->num);
            v->text = c->num;
        } else if (ps_clean_date(c->text, c->iso, sizeof c->iso)) {
            v->text = c->iso;
            return true;
        } else {
            v->text = c->text;
        }
        note(x, "clean.not_a_date", PS_SEV_WARNING, row, col, "无法识别的日期：%s'%s'", label,
             v->raw ? v->raw : v->text);
        return true;
    case PS_TYPE_YEAR:
        if (is_number) {
            v->has_number = number >= 1000 && number <= 9999 && number == floor(number);
            v->number = number;
            format_number(number, c->digits, sizeof c->digits);
            v->text = c->digits;
        } else {
            int y = 0;
            if (ps_clean_year(c->text, &y, c->digits, sizeof c->digits)) {
                v->has_number = true;
                v->number = y;
                snprintf(c->digits, sizeof c->digits, "%d", y);
            }
            v->text = c->digits[0] ? c->digits : c->text;
        }
        return true;
    case PS_TYPE_FRACTION:
        if (is_number) {
            ps_cleaned cl = ps_clean_rate_number(number);
            v->has_number = cl.ok;
            v->number = cl.ok ? cl.number : number;
            if (cl.note == PS_CLEAN_WARNING)
                note(x, "clean.rate_number", PS_SEV_WARNING, row, col, "%s以百分数录入为 %g，按 %g%% 处理",
                     label, number, number);
            return true;
        } else {
            ps_cleaned cl = ps_clean_rate_text(text);
            if (cl.ok) {
                v->has_number = true;
                v->number = cl.number;
                if (cl.decimals < 255 && v->decimals == 255)
                    v->decimals = (uint8_t)cl.decimals;
                if (cl.percent)
                    note(x, "clean.percent_text", PS_SEV_WARNING, row, col, "%s以文本录入：'%s'", label,
                         v->raw ? v->raw : c->text);
                else if (cl.note != PS_CLEAN_NONE)
                    note(x, "clean.number", cl.note == PS_CLEAN_WARNING ? PS_SEV_WARNING : PS_SEV_INFO, row,
                         col, "%s：%s'%s'", label, cl.message ? cl.message : "数值已规范化",
                         v->raw ? v->raw : c->text);
            } else {
                v->text = c->text;
                note(x, "clean.not_a_number", PS_SEV_WARNING, row, col, "无法识别的数值：%s'%s'", label,
                     v->raw ? v->raw : c->text);
            }
            return true;
        }
    case PS_TYPE_MONEY:
    case PS_TYPE_INT:
    case PS_TYPE_NUMBER:
        if (is_number) {
            v->has_number = true;
            v->number = number;
            return true;
        } else {
            ps_cleaned cl = ps_clean_number(text);
            if (cl.ok) {
                v->has_number = true;
                v->number = cl.number;
                if (cl.note != PS_CLEAN_NONE)
                    note(x, "clean.number", cl.note == PS_CLEAN_WARNING ? PS_SEV_WARNING : PS_SEV_INFO, row,
                         col, "%s：%s'%s'", label, cl.message ? cl.message : "数值已规范化",
                         v->raw ? v->raw : c->text);
            } else {
                v->text = c->text;
                note(x, "clean.not_a_number", PS_SEV_WARNING, row, col, "无法识别的数值：%s'%s'", label,
                     v->raw ? v->raw : c->text);
            }
            return true;
        }
    }
    return true;
}

/* ---- column headers, scoped to their table ------------------------------------------ */

/* A column header belongs to the table it heads: it is the nth match of its matcher, counted
 * from the left inside the table's columns [min_col, end_col), on the nearest row at or above
 * max_row that holds that many. Side-by-side groups repeating the same headers (决算 公开06)
 * then each read their own column, never the first match in the sheet. */
typedef struct header_scope {
    const map_sheet *ms;
    uint32_t max_row, min_col, end_col;
    unsigned nth, count;
    uint32_t row;
    size_t best;
} header_scope;

static bool visit_header(size_t i, void *ctx)
{
    header_scope *s = ctx;
    const ps_cell *c = s->ms->cells[i];
    if (c->row > s->max_row)
        return false; /* cell order: no nearer row follows */
    if (c->col < s->min_col || c->col >= s->end_col)
        return true;
    if (c->row != s->row) {
        s->row = c->row;
        s->count = 0;
    }
    if (++s->count == s->nth)
        s->best = i; /* a later (nearer) row replaces an earlier one */
    return true;
}

/* The index of the header cell, or SIZE_MAX. only_row: the header row is max_row itself. */
static size_t scoped_header(const xctx *x, const map_matcher *m, uint32_t max_row, bool only_row,
                            uint32_t min_col, uint32_t end_col)
{
    header_scope s = {.ms = x->ms,
                      .max_row = max_row,
                      .min_col = min_col,
                      .end_col = end_col,
                      .nth = m->nth,
                      .row = UINT32_MAX,
                      .best = SIZE_MAX};
    ps_map_each(x->ms, m, 0, only_row ? max_row : UINT32_MAX, visit_header, &s);
    return s.best;
}

typedef struct anchor_bounds {
    const map_sheet *ms;
    uint32_t col, min_col, end_col;
} anchor_bounds;

static bool visit_anchor(size_t i, void *ctx)
{
    anchor_bounds *b = ctx;
    uint32_t c = b->ms->cells[i]->col;
    if (c < b->col && c + 1 > b->min_col)
        b->min_col = c + 1;
    if (c > b->col && c < b->end_col)
        b->end_col = c;
    return true;
}

/* The header of a table's column: the table's columns run between the neighbouring cells of
 * the anchor's row that match the anchor's own matcher (side-by-side groups repeat it); the
 * header is searched from the anchor's column rightwards, then left of it (一级/二级指标 left
 * of a 三级指标 anchor) - so a group never takes its neighbour's header. */
static size_t table_header(const xctx *x, const map_table *t, const ps_cell *anchor,
                           const map_matcher *header)
{
    anchor_bounds b = {.ms = x->ms, .col = anchor->col, .min_col = 0, .end_col = UINT32_MAX};
    ps_map_each(x->ms, t->header.set ? &t->header : &t->start, 0, anchor->row, visit_anchor, &b);
    size_t h = scoped_header(x, header, anchor->row, t->header.set, anchor->col, b.end_col);
    if (h == SIZE_MAX && b.min_col < anchor->col)
        h = scoped_header(x, header, anchor->row, t->header.set, b.min_col, anchor->col);
    return h;
}

/* ---- locating fields --------------------------------------------------------------- */

static const ps_cell *label_cell(const xctx *x, size_t idx)
{
    return x->ms->cells[idx];
}

static void after_merge(const ps_sheet *sh, const ps_cell *c, uint32_t *last_row, uint32_t *last_col)
{
    const ps_range *r = ps_sheet_merge_at(sh, c->row, c->col);
    *last_row = r ? r->last_row : c->row;
    *last_col = r ? r->last_col : c->col;
}

static bool cell_blank(const ps_cell *c)
{
    return !c || c->type == PS_CELL_BLANK ||
           (c->type == PS_CELL_TEXT && (!c->text || ps_clean_is_blank(c->text)));
}

/* What a row under a header is, for take: below_row. */
typedef enum row_kind { ROW_BLANK, ROW_NUMBERING, ROW_FIGURES, ROW_TEXT } row_kind;

/* A 栏次 row is labelled 栏次 or holds the column numbers 1, 2, 3 … and nothing else; a row of
 * figures holds at least one number (typed as text too); a row of text only (注：…) is neither. */
static row_kind classify_row(const ps_sheet *sh, uint32_t row)
{
    unsigned seen = 0;
    bool numbering = true, figures = false;
    uint32_t ncols = ps_sheet_cols(sh) < MAP_MAX_COLS ? ps_sheet_cols(sh) : MAP_MAX_COLS;
    for (uint32_t c = 0; c < ncols; c++) {
        const ps_cell *cell = ps_sheet_cell(sh, row, c);
        if (cell_blank(cell))
            continue;
        double n = 0;
        bool number = false;
        if (cell->type == PS_CELL_NUMBER) {
            n = cell->number;
            number = true;
        } else if (cell->type == PS_CELL_TEXT) {
            char label[64];
            ps_clean_label(cell->text, label, sizeof label);
            if (seen == 0 && !strcmp(label, "栏次"))
                return ROW_NUMBERING;
            ps_cleaned v = ps_clean_number(cell->text);
            number = v.ok && !v.percent;
            n = v.number;
        }
        seen++;
        figures |= number;
        numbering &= number && n == (double)seen;
    }
    if (!seen)
        return ROW_BLANK;
    if (numbering && seen > 1)
        return ROW_NUMBERING;
    return figures ? ROW_FIGURES : ROW_TEXT;
}

static bool take_from(xctx *x, take_kind take, const map_field *f, const ps_cell *lc, uint32_t *row,
                      uint32_t *col)
{
    uint32_t lr, lcol;
    after_merge(x->sh, lc, &lr, &lcol);
    switch (take) {
    case TAKE_SELF:
        *row = lc->row;
        *col = lc->col;
        return true;
    case TAKE_RIGHT:
        *row = lc->row;
        *col = lcol + 1;
        return true;
    case TAKE_BELOW:
        *row = lr + 1;
        *col = lc->col;
        return true;
    case TAKE_RIGHT_NONBLANK:
        for (uint32_t c = lcol + 1; c < MAP_MAX_COLS; c++) {
            if (!cell_blank(ps_sheet_cell(x->sh, lc->row, c))) {
                *row = lc->row;
                *col = c;
                return true;
            }
        }
        return false;
    case TAKE_OFFSET: {
        long r = (long)lc->row + f->dr, c = (long)lc->col + f->dc;
        if (r < 0 || c < 0)
            return false;
        *row = (uint32_t)r;
        *col = (uint32_t)c;
        return true;
    }
    case TAKE_BELOW_ROW:
        for (uint32_t r = lr + 1; r < MAP_MAX_ROWS && r < ps_sheet_rows(x->sh); r++) {
            row_kind k = classify_row(x->sh, r);
            if (k == ROW_TEXT)
                return false; /* the note under the table: the row of figures is not there */
            if (k == ROW_FIGURES) {
                *row = r;
                *col = lc->col;
                return true;
            }
        }
        return false;
    case TAKE_NONE:
    case TAKE_CAPTURE: break;
    }
    return false;
}

/* The captured group of f's regex in the label of cell idx, cut at f->stop and trimmed; NULL
 * when empty. Caller frees. */
static char *capture(const xctx *x, const map_field *f, size_t idx)
{
    regmatch_t pm[10];
    const char *label = x->ms->labels[idx];
    if (!ps_map_match_cell(x->ms, idx, &f->find, pm, 10))
        return NULL;
    regmatch_t g = pm[f->capture];
    if (g.rm_so < 0 || g.rm_eo <= g.rm_so)
        return NULL;
    size_t len = (size_t)(g.rm_eo - g.rm_so);
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, label + g.rm_so, len);
    s[len] = '\0';
    if (f->stop && *f->stop) {
        char *cut = strstr(s, f->stop);
        if (cut)
            *cut = '\0';
    }
    if (ps_clean_is_blank(s)) {
        free(s);
        return NULL;
    }
    return s;
}

/* True when cell is text whose normalised form starts with label (normalised). */
static bool starts_with_label(const ps_cell *cell, const char *label)
{
    if (!cell || cell->type != PS_CELL_TEXT || !cell->text)
        return false;
    char buf[256];
    ps_clean_label(cell->text, buf, sizeof buf);
    return !strncmp(buf, label, strlen(label));
}

static void set_value(xctx *x, const char *key, conv *c)
{
    if (!ps_document_set(x->doc, key, &c->v))
        x->oom = true;
}

/* The value of f from text the mapping gives (a constant or a default): typed as f, with no
 * source cell. */
static void set_given(xctx *x, const map_field *f, const char *text)
{
    ps_cell given = {
        .row = PS_NO_CELL, .col = PS_NO_CELL, .type = PS_CELL_TEXT, .decimals = 255, .text = text};
    conv c;
    if (convert(x, &given, NULL, PS_NO_CELL, PS_NO_CELL, f->type, f->label ? f->label : f->key, &c)) {
        c.v.raw = NULL;
        set_value(x, f->key, &c);
    }
    conv_release(&c);
}

static void say_given(xctx *x, const char *rule, uint32_t row, uint32_t col, const char *msg)
{
    char ref[16] = "";
    if (row != PS_NO_CELL)
        ps_cell_ref(row, col, ref, sizeof ref);
    if (!ps_findings_add(ps_document_findings(x->doc), rule, PS_SEV_INFO, x->file, x->sheet,
                         ref[0] ? ref : NULL, msg))
        x->oom = true;
}

/* The file's base name through f's from_filename regex: group 1 (else the match) into out. */
static bool from_filename(const xctx *x, const map_field *f, char *out, size_t size)
{
    if (!f->from_file || !x->file)
        return false;
    const char *base = strrchr(x->file, '/');
    base = base ? base + 1 : x->file;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(f->from_file, NULL);
    if (!md)
        return false;
    bool ok = false;
    int rc = pcre2_match(f->from_file, (PCRE2_SPTR)base, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
    if (rc > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int g = rc > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;
        size_t n = ov[2 * g + 1] - ov[2 * g];
        if (n > 0 && n < size) {
            memcpy(out, base + ov[2 * g], n);
            out[n] = '\0';
            ok = true;
        }
    }
    pcre2_match_data_free(md);
    return ok;
}

/* No cell gives f a value (blank at row/col, or no cell at all: PS_NO_CELL): the file name, then
 * --year (year fields), then the default - each said. False when none applies. */
static bool fill_missing(xctx *x, const map_field *f, uint32_t row, uint32_t col)
{
    char msg[512], text[64];
    const char *name = f->label ? f->label : f->key;
    const char *where = row != PS_NO_CELL ? "为空" : "在表中未找到";
    if (from_filename(x, f, text, sizeof text)) {
        snprintf(msg, sizeof msg, "%s%s，取自文件名：“%s”", name, where, text);
        say_given(x, "mapping.from_filename", row, col, msg);
        set_given(x, f, text);
        return true;
    }
    if (f->type == PS_TYPE_YEAR && x->year) {
        snprintf(text, sizeof text, "%d", x->year);
        snprintf(msg, sizeof msg, "%s%s，取命令行 --year 给出的年度 %d", name, where, x->year);
        say_given(x, "mapping.year_option", row, col, msg);
        set_given(x, f, text);
        return true;
    }
    if (f->deflt) {
        snprintf(msg, sizeof msg, "%s%s，取映射给出的默认值“%s”", name, where, f->deflt);
        say_given(x, "mapping.default", row, col, msg);
        set_given(x, f, f->deflt);
        return true;
    }
    return false;
}

/* split: the part of the cell's text as typed (spaces kept) that f's split regex captures; NULL
 * when the cell is not text or the regex does not match (said). Caller frees. */
static char *split_part(xctx *x, const map_field *f, const ps_cell *cell, uint32_t row, uint32_t col)
{
    if (!cell || cell->type != PS_CELL_TEXT || !cell->text)
        return NULL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(f->split, NULL);
    if (!md) {
        x->oom = true;
        return NULL;
    }
    char *out = NULL;
    int rc = pcre2_match(f->split, (PCRE2_SPTR)cell->text, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
    if (rc > f->split_part) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        PCRE2_SIZE so = ov[2 * f->split_part], eo = ov[2 * f->split_part + 1];
        if (so != PCRE2_UNSET && eo >= so) {
            out = malloc(eo - so + 1);
            if (out) {
                memcpy(out, cell->text + so, eo - so);
                out[eo - so] = '\0';
            } else {
                x->oom = true;
            }
        }
    }
    pcre2_match_data_free(md);
    if (!out && !x->oom)
        note(x, "mapping.split", PS_SEV_WARNING, row, col,
             "%s：单元格文本'%s'不符合映射的拆分格式，按原文读取", f->label ? f->label : f->key, cell->text);
    return out;
}

/* What matcher m looks for, as 「未找到…」 says it: 标签“总分”, 以“年初预期”开头的标签, 与正则“…”
 *相符的标签 (kind: 标签 or 表头). */
static void matcher_phrase(const map_matcher *m, const char *kind, char *buf, size_t size)
{
    const char *t = m->text ? m->text : "";
    switch (m->kind) {
    case MATCH_EXACT: snprintf(buf, size, "%s“%s”", kind, t); break;
    case MATCH_PREFIX: snprintf(buf, size, "以“%s”开头的%s", t, kind); break;
    case MATCH_CONTAINS: snprintf(buf, size, "含“%s”的%s", t, kind); break;
    case MATCH_REGEX: snprintf(buf, size, "与正则“%s”相符的%s", t, kind); break;
    }
}

/* f has no cell: its label (or, the row label found, its column header) is not in the sheet.
 * Said by the findings about f (「未找到标签“总分”」), which point at no cell. */
static void label_not_found(xctx *x, const map_field *f, const ps_cell *row_label)
{
    char what[400], row[200];
    if (row_label) {
        matcher_phrase(&f->find, "标签", row, sizeof row);
        char header[200];
        matcher_phrase(&f->column, "表头", header, sizeof header);
        snprintf(what, sizeof what, "%s上方的%s", row, header);
    } else {
        matcher_phrase(&f->find, "标签", what, sizeof what);
    }
    if (x->m->nparts) { /* a multi-sheet template: say on which sheet it was looked for */
        char on[sizeof what];
        snprintf(on, sizeof on, "工作表「%s」中的%s", x->sheet, what);
        memcpy(what, on, sizeof what);
    }
    if (!ps_document_set_missing_label(x->doc, f->key, what))
        x->oom = true;
}

static void extract_field(xctx *x, const map_field *f)
{
    uint32_t row, col;
    const ps_cell *cell = NULL, *lc = NULL;
    char *captured = NULL;
    if (f->value) {
        set_given(x, f, f->value);
        return;
    }
    if (!f->has_at && !f->find.set) { /* from_filename alone */
        fill_missing(x, f, PS_NO_CELL, PS_NO_CELL);
        return;
    }
    if (f->has_at) {
        row = f->at_row;
        col = f->at_col;
        cell = ps_sheet_cell(x->sh, row, col);
    } else {
        size_t idx = ps_map_find(x->ms, &f->find, 0, UINT32_MAX);
        if (idx == SIZE_MAX) {
            label_not_found(x, f, NULL);
            goto missing;
        }
        lc = label_cell(x, idx);
        if (f->column.set) {
            /* the header nearest above the row label, right of it */
            uint32_t lr, lcol;
            after_merge(x->sh, lc, &lr, &lcol);
            size_t h =
                lc->row ? scoped_header(x, &f->column, lc->row - 1, false, lcol + 1, UINT32_MAX) : SIZE_MAX;
            if (h == SIZE_MAX) {
                label_not_found(x, f, lc);
                goto missing;
            }
            row = lc->row;
            col = label_cell(x, h)->col;
            cell = ps_sheet_cell(x->sh, row, col);
        } else if (f->take == TAKE_CAPTURE) {
            captured = capture(x, f, idx);
            row = lc->row;
            col = lc->col;
            cell = lc;
            if (!captured) {
                /* the label found but nothing typed after it, nor where fallback looks: the
                 * label cell, where the value is written after the label, is the blank one */
                if (f->fallback == TAKE_NONE || !take_from(x, f->fallback, f, lc, &row, &col))
                    goto blank_label;
                cell = ps_sheet_cell(x->sh, row, col);
                if (f->stop && starts_with_label(cell, f->stop))
                    goto blank_label; /* the next label (填报时间：), not a value */
            }
        } else {
            if (!take_from(x, f->take, f, lc, &row, &col)) {
                if (f->take == TAKE_RIGHT_NONBLANK)
                    goto blank_right; /* nothing on the right: the cell next to the label */
                goto missing;
            }
            cell = ps_sheet_cell(x->sh, row, col);
        }
    }
    if (f->split && !captured && cell_blank(cell)) {
        /* 分值 and 得分 typed in one cell merged across both columns (「100   100」 in G34:H34):
         * the 得分 column's cell is covered by the merge, the figures are in its first cell */
        const ps_cell *shown = ps_sheet_cell_shown(x->sh, row, col);
        if (shown && shown->row == row && !cell_blank(shown)) {
            cell = shown;
            col = shown->col;
        }
    }
    if (f->split && !captured)
        captured = split_part(x, f, cell, row, col);
    conv c;
    if (convert(x, cell, captured, row, col, f->type, f->label ? f->label : f->key, &c))
        set_value(x, f->key, &c);
    else if (fill_missing(x, f, row, col))
        ;
    else if (!captured && !ps_document_set_blank_cell_on(x->doc, f->key, x->sheet_idx, row, col))
        x->oom = true; /* a blank total keeps its cell, for 「…表中为空」 */
    conv_release(&c);
    free(captured);
    return;
missing:
    fill_missing(x, f, PS_NO_CELL, PS_NO_CELL);
    return;
blank_right: /* the label found, its value cell is the blank one just right of it */
    take_from(x, TAKE_RIGHT, f, lc, &row, &col);
    goto blank;
blank_label:
    row = lc->row;
    col = lc->col;
blank:
    free(captured);
    if (!fill_missing(x, f, row, col) &&
        !ps_document_set_blank_cell_on(x->doc, f->key, x->sheet_idx, row, col))
        x->oom = true;
}

/* ---- year typo: the intended year -------------------------------------------------- */

static int fill_year(const xctx *x)
{
    for (size_t i = 0; i < x->m->nfields; i++) {
        if (x->m->fields[i].type != PS_TYPE_DATE)
            continue;
        const ps_value *v = ps_document_get(x->doc, x->m->fields[i].key);
        if (v && v->text && strlen(v->text) >= 10 && v->text[4] == '-')
            return atoi(v->text);
    }
    return 0;
}

/* A year typed with a digit too many (「20201 年度」): the value keeps the typed digits in
 * text and gets the intended year as its number: the candidate (one digit removed) equal to
 * the year before the fill date, else the fill date's year, else the only candidate. */
static void fix_years(xctx *x)
{
    int fy = fill_year(x);
    for (size_t i = 0; i < x->m->nfields; i++) {
        const map_field *f = &x->m->fields[i];
        if (f->type != PS_TYPE_YEAR)
            continue;
        const ps_value *old = ps_document_get(x->doc, f->key);
        if (!old || old->has_number || !old->text)
            continue;
        const char *d = old->text;
        size_t n = strlen(d);
        if (n != 5 || strspn(d, "0123456789") != 5)
            continue;
        int cand[5], nc = 0, pick = 0;
        for (size_t k = 0; k < n; k++) {
            char buf[5];
            size_t j = 0;
            for (size_t t = 0; t < n; t++)
                if (t != k)
                    buf[j++] = d[t];
            buf[4] = '\0';
            int y = atoi(buf);
            if (buf[0] != '0' && y >= 1990 && (fy == 0 || y <= fy)) {
                bool dup = false;
                for (int q = 0; q < nc; q++)
                    dup |= cand[q] == y;
                if (!dup)
                    cand[nc++] = y;
            }
        }
        for (int q = 0; q < nc && !pick; q++)
            if (fy && cand[q] == fy - 1)
                pick = cand[q];
        for (int q = 0; q < nc && !pick; q++)
            if (fy && cand[q] == fy)
                pick = cand[q];
        if (!pick && nc == 1)
            pick = cand[0];
        if (!pick)
            continue;
        ps_value v = *old;
        v.has_number = true;
        v.number = pick;
        if (!ps_document_set(x->doc, f->key, &v))
            x->oom = true;
    }
}

/* ---- tables ------------------------------------------------------------------------ */

/* 「产出指标(50分)」 (normalised) -> text "产出指标" into out, weight 50. */
static bool split_weight(const char *label, char *out, size_t size, double *weight)
{
    size_t n = strlen(label);
    const char *suffix = "分)";
    size_t sl = strlen(suffix);
    snprintf(out, size, "%s", label);
    if (n < sl + 2 || strcmp(label + n - sl, suffix))
        return false;
    const char *open = NULL;
    for (const char *p = label; p < label + n - sl; p++)
        if (*p == '(')
            open = p;
    if (!open)
        return false;
    char num[32];
    size_t nl = (size_t)(label + n - sl - (open + 1));
    if (nl == 0 || nl >= sizeof num)
        return false;
    memcpy(num, open + 1, nl);
    num[nl] = '\0';
    char *end;
    double w = strtod(num, &end);
    if (*end || end == num)
        return false;
    *weight = w;
    size_t tl = (size_t)(open - label);
    if (tl >= size)
        tl = size - 1;
    out[tl] = '\0';
    return true;
}

typedef struct trow {
    uint32_t row;
    int section;               /* index into t->sections, -1 none */
    uint32_t block_r, block_c; /* source of the `by` cell: rows sharing it form a block */
    uint32_t block_label;      /* hash of its label without 「（N分）」, 0 none */
} trow;

/* The hash of a `by` cell's label as a block is named: normalised, 「（N分）」 dropped; 0 none. */
static uint32_t block_label(const ps_cell *c)
{
    if (!c || c->type != PS_CELL_TEXT || !c->text)
        return 0;
    size_t n = strlen(c->text) + 1;
    char *norm = malloc(n), *plain = malloc(n);
    uint32_t h = 0;
    if (norm && plain) {
        ps_clean_label(c->text, norm, n);
        double w;
        split_weight(norm, plain, n, &w);
        if (*plain)
            h = ps_map_label_hash(plain, strlen(plain)) | 1u;
    }
    free(norm);
    free(plain);
    return h;
}

/* Rows i and j are in one block: the same `by` cell, or the same label repeated where a page
 * break cut the block (「产出指标」 in B13:B20 and again in B21:B29). */
static bool same_block(const trow *rows, size_t i, size_t j)
{
    return (rows[j].block_r == rows[i].block_r && rows[j].block_c == rows[i].block_c) ||
           (rows[i].block_label && rows[j].block_label == rows[i].block_label);
}

static int col_index(const map_table *t, const char *key)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].key, key))
            return (int)i;
    return -1;
}

static bool is_block_value(const map_table *t, const char *key)
{
    for (size_t i = 0; i < t->nblocks_values; i++)
        if (!strcmp(t->blocks_values[i], key))
            return true;
    return false;
}

/* The cell of column ci on sheet row r, following merges/fill-down; *sr,*sc its source. */
static const ps_cell *table_cell(xctx *x, const map_column *mc, uint32_t col, uint32_t r,
                                 const ps_cell **carry, uint32_t *sr, uint32_t *sc)
{
    if (!mc->fill_down) {
        *sr = r;
        *sc = col;
        return ps_sheet_cell(x->sh, r, col);
    }
    const ps_cell *c = ps_sheet_cell_shown(x->sh, r, col);
    if (cell_blank(c))
        c = *carry;
    else
        *carry = c;
    if (c) {
        *sr = c->row;
        *sc = c->col;
    } else {
        *sr = r;
        *sc = col;
    }
    return c;
}

/* A blank cell of a table row keeps its address, as a blank field does, so that a finding about
 * it points at it: key "<table>[<row>].<column>" (ps_table_cell_key). */
static void blank_table_cell(xctx *x, const ps_table *tab, size_t ri, const char *key, uint32_t sr,
                             uint32_t sc)
{
    char k[320];
    if (!key || !ps_table_cell_key(k, sizeof k, ps_table_name(tab), ri, key))
        return;
    if (!ps_document_set_blank_cell_on(x->doc, k, x->sheet_idx, sr, sc))
        x->oom = true;
}

static void put_column(xctx *x, ps_table *tab, size_t ri, const map_column *mc, const ps_cell *c, uint32_t sr,
                       uint32_t sc)
{
    conv cv;
    memset(&cv, 0, sizeof cv); /* released on every path, convert() called or not */
    const char *label = mc->label ? mc->label : mc->key;
    if (mc->weight_key && c && c->type == PS_CELL_TEXT && c->text) {
        size_t n = strlen(c->text) + 1;
        char *norm = malloc(n), *plain = malloc(n);
        if (!norm || !plain) {
            free(norm);
            free(plain);
            x->oom = true;
            return;
        }
        ps_clean_label(c->text, norm, n);
        double w = 0;
        bool has_w = split_weight(norm, plain, n, &w);
        if (!ps_clean_is_blank(plain) && convert(x, c, plain, sr, sc, mc->type, label, &cv)) {
            cv.v.raw = c->text;
            if (!ps_table_set(tab, ri, mc->key, &cv.v))
                x->oom = true;
        }
        conv_release(&cv);
        if (ps_clean_is_blank(plain))
            blank_table_cell(x, tab, ri, mc->key, sr, sc);
        if (!has_w)
            blank_table_cell(x, tab, ri, mc->weight_key, sr, sc);
        if (has_w) {
            ps_value wv = ps_value_number(PS_TYPE_NUMBER, w, sr, sc);
            wv.sheet = x->sheet_idx;
            wv.raw = c->text;
            wv.decimals = 255;
            if (!ps_table_set(tab, ri, mc->weight_key, &wv))
                x->oom = true;
        }
        free(norm);
        free(plain);
        return;
    }
    if (mc->as_label && c && c->type == PS_CELL_TEXT && c->text && !ps_clean_is_blank(c->text)) {
        /* 「质量\n\n指标\n\n质量\n\n指标」 -> 质量指标, the typed text kept as raw */
        size_t n = strlen(c->text) + 1;
        char *norm = malloc(n);
        if (!norm) {
            x->oom = true;
            return;
        }
        ps_clean_label(c->text, norm, n);
        if (!ps_clean_is_blank(norm) && convert(x, c, norm, sr, sc, mc->type, label, &cv)) {
            if (!ps_table_set(tab, ri, mc->key, &cv.v))
                x->oom = true;
        } else {
            blank_table_cell(x, tab, ri, mc->key, sr, sc);
        }
        conv_release(&cv);
        free(norm);
        return;
    }
    if (convert(x, c, NULL, sr, sc, mc->type, label, &cv)) {
        if (!ps_table_set(tab, ri, mc->key, &cv.v))
            x->oom = true;
    } else {
        blank_table_cell(x, tab, ri, mc->key, sr, sc);
    }
    conv_release(&cv);
}

static void extract_table(xctx *x, const map_table *t)
{
    const ps_sheet *sh = x->sh;
    size_t aidx = ps_map_find(x->ms, t->header.set ? &t->header : &t->start, 0, UINT32_MAX);
    if (aidx == SIZE_MAX)
        return;
    const ps_cell *anchor = label_cell(x, aidx);
    uint32_t arow_last, acol_last;
    after_merge(sh, anchor, &arow_last, &acol_last);
    uint32_t first = arow_last + 1, last = ps_sheet_rows(sh);
    if (last > MAP_MAX_ROWS)
        last = MAP_MAX_ROWS;
    if (t->end.set) {
        size_t e = ps_map_find(x->ms, &t->end, first, UINT32_MAX);
        if (e != SIZE_MAX)
            last = label_cell(x, e)->row;
    }
    /* columns */
    uint32_t *cols = calloc(t->ncols, sizeof *cols);
    bool *found = calloc(t->ncols, sizeof *found);
    trow *rows = NULL;
    const ps_cell **carry = calloc(t->ncols, sizeof *carry);
    if (!cols || !found || !carry) {
        x->oom = true;
        goto out;
    }
    /* headers: in the header row, or the nearest row at or above the start anchor; within the
     * table's own columns either way */
    for (size_t i = 0; i < t->ncols; i++) {
        const map_column *mc = &t->cols[i];
        if (mc->from_anchor) {
            cols[i] = anchor->col;
            found[i] = true;
            continue;
        }
        size_t h = table_header(x, t, anchor, &mc->header);
        if (h != SIZE_MAX) {
            cols[i] = label_cell(x, h)->col;
            found[i] = true;
        }
    }
    int key = col_index(t, t->row_key);
    int by = t->blocks_by ? col_index(t, t->blocks_by) : -1;
    if (key < 0 || !found[key])
        goto out;
    /* the section headings are read in the key column, or the anchor's for start tables */
    uint32_t seccol = t->start.set ? anchor->col : cols[key];

    /* pass 1: which sheet rows are table rows */
    size_t nrows = 0;
    rows = calloc(last > first ? last - first : 1, sizeof *rows);
    if (!rows) {
        x->oom = true;
        goto out;
    }
    int section = -1;
    const ps_cell *bycarry = NULL, *bylast = NULL;
    uint32_t bylabel = 0;
    for (uint32_t r = first; r < last; r++) {
        const ps_cell *sc = ps_sheet_cell(sh, r, seccol);
        if (t->nsections && sc && sc->type == PS_CELL_TEXT && sc->text) {
            char lab[512];
            ps_clean_label(sc->text, lab, sizeof lab);
            bool is_section = false;
            for (size_t s = 0; s < t->nsections && !is_section; s++) {
                if (ps_map_match(&t->sections[s].m, lab, NULL, 0)) {
                    section = (int)s;
                    is_section = true;
                }
            }
            if (is_section)
                continue;
        }
        const ps_cell *kc =
            t->cols[key].fill_down ? ps_sheet_cell_shown(sh, r, cols[key]) : ps_sheet_cell(sh, r, cols[key]);
        if (cell_blank(kc))
            continue;
        if (t->skip.set && kc->type == PS_CELL_TEXT) {
            char lab[512];
            ps_clean_label(kc->text, lab, sizeof lab);
            if (ps_map_match(&t->skip, lab, NULL, 0))
                continue;
        }
        trow *tr = &rows[nrows++];
        tr->row = r;
        tr->section = section;
        tr->block_r = tr->block_c = UINT32_MAX;
        tr->block_label = 0;
        if (by >= 0 && found[by]) {
            uint32_t sr, scol;
            const ps_cell *bc = table_cell(x, &t->cols[by], cols[by], r, &bycarry, &sr, &scol);
            if (bc) {
                tr->block_r = sr;
                tr->block_c = scol;
                if (bc != bylast) { /* a merged cell labels many rows: its label hashed once */
                    bylast = bc;
                    bylabel = block_label(bc);
                }
                tr->block_label = bylabel;
            }
        }
    }

    /* per-row or per-block values: per row when a block of several rows has several values */
    bool per_row = t->weights_mode == 1;
    int wcol = t->nblocks_values ? col_index(t, t->blocks_values[0]) : -1;
    if (t->weights_mode == 0 && wcol >= 0 && found[wcol]) {
        for (size_t i = 0; i < nrows && !per_row;) {
            size_t j = i, filled = 0;
            while (j < nrows && same_block(rows, i, j)) {
                if (!cell_blank(ps_sheet_cell(sh, rows[j].row, cols[wcol])))
                    filled++;
                j++;
            }
            if (j - i >= 2 && filled >= 2)
                per_row = true;
            i = j;
        }
    }

    /* pass 2: the table */
    ps_table *tab = ps_document_add_table(x->doc, t->name);
    if (!tab) {
        x->oom = true;
        goto out;
    }
    memset(carry, 0, t->ncols * sizeof *carry);
    for (size_t i = 0; i < nrows && !x->oom; i++) {
        size_t ri = ps_table_add_row(tab);
        if (ri == SIZE_MAX) {
            x->oom = true;
            break;
        }
        uint32_t r = rows[i].row;
        if (t->section_key && rows[i].section >= 0) {
            const map_section *s = &t->sections[rows[i].section];
            ps_value sv = {.type = PS_TYPE_TEXT,
                           .text = s->value,
                           .row = PS_NO_CELL,
                           .col = PS_NO_CELL,
                           .decimals = 255};
            if (!ps_table_set(tab, ri, t->section_key, &sv))
                x->oom = true;
        }
        for (size_t ci = 0; ci < t->ncols; ci++) {
            const map_column *mc = &t->cols[ci];
            if (!found[ci])
                continue;
            uint32_t sr, scol;
            const ps_cell *c = table_cell(x, mc, cols[ci], r, &carry[ci], &sr, &scol);
            if (t->blocks_table && !per_row && is_block_value(t, mc->key))
                continue;
            x->quiet = mc->fill_down && c && sr != r;
            put_column(x, tab, ri, mc, c, sr, scol);
            x->quiet = false;
        }
    }
    if (t->count_key) {
        ps_value cv = ps_value_number(PS_TYPE_INT, (double)ps_table_row_count(tab), PS_NO_CELL, PS_NO_CELL);
        cv.decimals = 255;
        if (!ps_document_set(x->doc, t->count_key, &cv))
            x->oom = true;
    }

    /* the blocks: one row per run of rows sharing the `by` cell */
    if (t->blocks_table && by >= 0 && !x->oom) {
        ps_table *bt = ps_document_add_table(x->doc, t->blocks_table);
        if (!bt) {
            x->oom = true;
            goto out;
        }
        for (size_t i = 0; i < nrows && !x->oom;) {
            size_t j = i;
            while (j < nrows && same_block(rows, i, j))
                j++;
            size_t bi = ps_table_add_row(bt);
            if (bi == SIZE_MAX) {
                x->oom = true;
                break;
            }
            const ps_value *bv = ps_table_get(tab, i, t->blocks_by);
            if (bv && !ps_table_set(bt, bi, t->blocks_by, bv))
                x->oom = true;
            for (size_t k = 0; k < t->nblocks_keep; k++) {
                const ps_value *kv = ps_table_get(tab, i, t->blocks_keep[k]);
                if (kv && !ps_table_set(bt, bi, t->blocks_keep[k], kv))
                    x->oom = true;
            }
            /* `sums:` the rows' figures of a column, added up per block (blank when none has one) */
            for (size_t k = 0; k < t->nsums; k++) {
                double sum = 0;
                size_t n = 0;
                for (size_t q = i; q < j; q++) {
                    const ps_value *rv = ps_table_get(tab, q, t->sums_cols[k]);
                    if (rv && rv->has_number) {
                        sum += rv->number;
                        n++;
                    }
                }
                if (!n)
                    continue;
                ps_value sv = ps_value_number(PS_TYPE_NUMBER, sum, PS_NO_CELL, PS_NO_CELL);
                sv.decimals = 255;
                if (!ps_table_set(bt, bi, t->sums_keys[k], &sv))
                    x->oom = true;
            }
            for (size_t k = 0; !per_row && k < t->nblocks_values; k++) {
                int ci = col_index(t, t->blocks_values[k]);
                if (ci < 0 || !found[ci])
                    continue;
                const ps_cell *c = NULL;
                for (size_t q = i; q < j && cell_blank(c); q++)
                    c = ps_sheet_cell_shown(sh, rows[q].row, cols[ci]);
                if (cell_blank(c)) {
                    blank_table_cell(x, bt, bi, t->blocks_values[k], rows[i].row, cols[ci]);
                    continue;
                }
                const map_column *mc = &t->cols[ci];
                conv cv;
                if (convert(x, c, NULL, c->row, c->col, mc->type, mc->label ? mc->label : mc->key, &cv) &&
                    !ps_table_set(bt, bi, mc->key, &cv.v))
                    x->oom = true;
                conv_release(&cv);
            }
            i = j;
        }
    }
out:
    free(cols);
    free(found);
    free(rows);
    free(carry);
}

/* ---- the sheet --------------------------------------------------------------------- */

ps_document *ps_map_extract_indexed(const ps_mapping *m, const map_sheet *ms, const char *file, int year)
{
    if (m->nparts == 0)
        return ps_map_extract_parts(m, &ms, file, year);
    /* a multi-sheet template given one sheet: read as its first part */
    const map_sheet **sheets = calloc(m->nparts, sizeof *sheets);
    if (!sheets)
        return NULL;
    sheets[0] = ms;
    ps_document *doc = ps_map_extract_parts(m, sheets, file, year);
    free(sheets);
    return doc;
}

/* Points x at part p's sheet (the document's sheet of that name is added when new). */
static bool enter_part(xctx *x, const map_sheet *ms)
{
    x->sh = ms->sh;
    x->ms = ms;
    x->sheet = ps_sheet_name(ms->sh);
    size_t idx = ps_document_add_sheet(x->doc, x->sheet);
    if (idx == SIZE_MAX)
        return false;
    x->sheet_idx = (uint16_t)idx;
    return true;
}

/* The fields (tables: the tables) of every part that has a sheet, in part order. */
static void read_parts(xctx *x, const map_sheet *const *sheets, size_t first, size_t nparts, bool tables)
{
    const ps_mapping *m = x->m;
    for (size_t p = first; p < nparts && !x->oom; p++) {
        if (!sheets[p])
            continue;
        if (!enter_part(x, sheets[p])) {
            x->oom = true;
            break;
        }
        if (tables) {
            for (size_t i = 0; i < m->ntables && !x->oom; i++)
                if (m->tables[i].part == p)
                    extract_table(x, &m->tables[i]);
        } else {
            for (size_t i = 0; i < m->nfields && !x->oom; i++)
                if (m->fields[i].part == p)
                    extract_field(x, &m->fields[i]);
        }
    }
}

ps_document *ps_map_extract_parts(const ps_mapping *m, const map_sheet *const *sheets, const char *file,
                                  int year)
{
    /* a one-sheet template is one part; a part without a sheet (an optional part not found)
     * gives nothing */
    size_t nparts = m->nparts ? m->nparts : 1, first = 0;
    if (m->nparts == 0 && !sheets[0])
        return NULL;
    while (first < nparts && !sheets[first])
        first++;
    if (first == nparts)
        return NULL;
    xctx x = {.m = m, .file = file, .year = year};
    x.doc = ps_document_new(m->id, m->path, file, ps_sheet_name(sheets[first]->sh));
    if (!x.doc)
        return NULL;
    read_parts(&x, sheets, first, nparts, false);
    if (!x.oom)
        fix_years(&x);
    read_parts(&x, sheets, first, nparts, true);
    if (x.oom) {
        ps_document_free(x.doc);
        return NULL;
    }
    return x.doc;
}

ps_document *ps_mapping_extract_sheet(const ps_mapping *m, const ps_workbook *wb, const ps_sheet *sh,
                                      const char *file)
{
    (void)wb;
    map_sheet ms;
    if (!ps_map_sheet_init(&ms, sh))
        return NULL;
    ps_document *doc = ps_map_extract_indexed(m, &ms, file, 0);
    ps_map_sheet_release(&ms);
    return doc;
}
