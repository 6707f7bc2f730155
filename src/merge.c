/* merge.c - the consolidated workbook of a batch; see merge.h. ps_merge_add_file spills each
 * document (ps_document_encode) to an unlinked temporary file and keeps a small index entry
 * per document and per file, and the 汇总 totals. ps_merge_close then decides the duplicates
 * and the unit order, lays out every part's sheets in the workbook's order (汇总 per template,
 * 明细 per table, 校验结果; a part takes as many sheets as the row limit needs, each with the
 * same head rows), reads each document back once and writes its rows into all the parts, then
 * writes 文件 — in libxlsxwriter's constant_memory mode: each row is flushed as it is written,
 * so the workbook never lives in memory. */
#include "perfsheet/merge.h"

#include "perfsheet/workbook.h"
#include "perfsheet/writer.h"

#include "rules_int.h"
#include "writer_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_LINKS 65530    /* Excel's hyperlinks per worksheet */
#define MAX_COMMENTS 65536 /* per sheet: beyond, flagged cells are filled only (said at close) */
#define MAX_ROW_LABELS 24  /* rows of a sheet-less table shown as 汇总 columns, per table */
#define MAX_WIDTH 48       /* display columns: longer text wraps */
#define MSG_MAX 2048
#define NO_DOC UINT32_MAX

typedef struct merge_col {
    const char *key, *label; /* borrowed: mapping, layout or the merge's arena */
    const char *table;       /* a row of a sheet-less table: the table; NULL: a field */
    const char *label_key;   /* ... its label column */
    const char *row_label;   /* ... the text of its label column */
    ps_field_type type;
    bool summed;  /* money, or an operand of a ratio */
    int num, den; /* a ratio: the operands' column indexes, else -1 */
    double total;
    size_t any;   /* units with a figure: none, the total stays blank */
    bool used;    /* some unit has a value or a finding here: else the column is hidden */
    size_t width; /* display columns */
} merge_col;

typedef struct part part;
typedef void (*head_fn)(ps_merge *m, part *p, lxw_worksheet *ws, size_t index);

/* One logical sheet, spread over as many sheets as the row limit needs. */
struct part {
    char base[WRITER_SHEET_BYTES + 8];
    lxw_worksheet **sheets;
    char (*names)[WRITER_SHEET_BYTES + 16];
    size_t nsheets;
    uint32_t head;        /* rows above the data on each sheet */
    uint16_t ncols;       /* columns of the header */
    size_t cur;           /* the sheet being filled */
    uint32_t row;         /* next row on it */
    size_t rows;          /* data rows in all */
    size_t links, notes;  /* hyperlinks and comments on the last sheet */
    size_t notes_dropped; /* flagged cells left without a comment (MAX_COMMENTS) */
    head_fn write_head;
    void *ctx;
};

typedef struct ratio {
    const char *x, *a, *b; /* x = a / b */
} ratio;

typedef struct sheetless { /* a table with `detail: false`: its rows become 汇总 columns */
    const wr_block *blk;
    const char *label_key;
    const char **labels; /* first-seen order */
    size_t nlabels;
    size_t left_out; /* rows whose label came after MAX_ROW_LABELS others */
} sheetless;

typedef struct summary { /* 汇总 of one template */
    const ps_mapping *m;
    wr_layout *layout; /* owns: labels and names point into it */
    merge_col *fields; /* the plain fields but unit_name and year */
    size_t nfields;
    merge_col *cols; /* at close: the fields, then the sheet-less table rows */
    size_t ncols;
    sheetless *tables;
    size_t ntables;
    ratio *ratios;
    size_t nratios;
    size_t docs;           /* documents summed */
    size_t unit_w, file_w; /* widest unit name and file path */
    const char *title;
    char note[1024]; /* the legend row's explanation of 合计 */
    double *w;       /* column widths; < 0: hidden */
    part p;
} summary;

typedef struct detail { /* 明细 of one table name */
    const char *table;
    const char *title; /* the layout's detail: name, or NULL */
    merge_col *cols;   /* between 填报单位, 年度 and 文件 */
    size_t ncols;
    double *w; /* column widths */
    part p;
} detail;

typedef struct mdoc {
    off_t at; /* in the spill file */
    uint32_t len;
    uint32_t file;   /* index in files */
    uint32_t unit;   /* unit id: first-appearance order; a document without a unit gets its own */
    int32_t year;    /* 0: none */
    int32_t sum;     /* index in sums, -1: none */
    uint32_t seq;    /* position in its file */
    uint32_t nfind;  /* its findings */
    double filled;   /* 填报时间 as a comparable number; -INFINITY: none */
    uint32_t winner; /* excluded: the document summed in its place; NO_DOC: summed */
    bool has_unit;
} mdoc;

typedef struct mfile {
    char *path;
    char *error; /* the message, when the file failed */
    ps_status status;
    uint32_t first_doc, ndocs;
    uint32_t counts[3]; /* findings by severity */
} mfile;

struct ps_merge {
    const ps_mapping_set *set;
    ps_merge_options opt;
    char *out_path;
    char tmp[PATH_MAX + 128];
    lxw_workbook *wb;
    wr_formats fm;
    ps_arena arena;
    summary *sums;
    size_t nsums;
    detail *details;
    size_t ndetails;
    part findings, files;
    char **sheet_names; /* every sheet created, for unique names */
    size_t nsheet_names;
    int spill;       /* the documents, encoded; -1 until the first */
    off_t spill_end; /* next free offset */
    char *buf;       /* a document read back */
    size_t buf_cap;
    mdoc *docs;
    size_t ndocs, docs_cap;
    uint32_t *drows; /* rows of detail table k of document i: drows[i * ndetails + k] */
    size_t drows_cap;
    mfile *fl;
    size_t nfiles, files_cap;
    /* unit names → ids (open addressing over FNV-1a hashes) */
    char **units;
    size_t nunits, units_cap;
    uint32_t *unit_slot; /* id + 1; 0: empty */
    size_t unit_slots;
    /* (template, year, unit) keys seen, for the duplicate count */
    uint64_t *keys;
    size_t nkeys, key_slots;
    size_t duplicates;
    lxw_error failed; /* the first write error */
    bool nomem;
};

static const char *const LEGEND[] = {"错误", "警告", "提示"};

/* ---- small helpers ---- */

static void note(ps_merge *m, lxw_error e)
{
    if (e != LXW_NO_ERROR && m->failed == LXW_NO_ERROR)
        m->failed = e;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* Display columns of UTF-8 text: 2 for CJK and full-width characters; the longest line. */
static size_t text_width(const char *s)
{
    size_t best = 0, cols = 0;
    for (; s && *s;) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') {
            cols = 0;
            s++;
            continue;
        }
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        cols += len >= 3 ? 2 : 1;
        if (cols > best)
            best = cols;
        for (size_t i = 0; i < len && *s; i++)
            s++;
    }
    return best;
}

static size_t value_width(const ps_value *v, ps_field_type t)
{
    if (!v)
        return 0;
    switch (ps_wr_kind_of(t)) {
    case WR_K_MONEY:
    case WR_K_RATE: return 10;
    case WR_K_INT: return 8;
    case WR_K_DATE: return 11;
    default: break;
    }
    const char *text = v->text ? v->text : v->raw;
    return text ? text_width(text) : 10;
}

static double col_width(size_t cols, size_t min)
{
    if (cols < min)
        cols = min;
    if (cols > MAX_WIDTH)
        cols = MAX_WIDTH;
    return (double)cols + 2;
}

/* ---- sheets and parts ---- */

static bool name_taken(const ps_merge *m, const char *name)
{
    for (size_t i = 0; i < m->nsheet_names; i++)
        if (strcasecmp(m->sheet_names[i], name) == 0)
            return true;
    return false;
}

/* A new sheet named after want, made valid and unique ("-2", "-3", … when taken). */
static lxw_worksheet *new_sheet(ps_merge *m, const char *want, char *name, size_t size)
{
    ps_writer_sheet_name(want, name, size);
    for (int i = 2; name_taken(m, name) && i < 100000; i++) {
        char buf[WRITER_SHEET_BYTES + 16], base[WRITER_SHEET_BYTES + 8];
        ps_writer_sheet_name(want, base, sizeof base);
        size_t chars = 0, o = 0; /* room for "-NNNNN" within 31 characters */
        while (base[o] && chars < 24) {
            o++;
            while (((unsigned char)base[o] & 0xC0) == 0x80)
                o++;
            chars++;
        }
        base[o] = '\0';
        snprintf(buf, sizeof buf, "%s-%d", base, i);
        ps_writer_sheet_name(buf, name, size);
    }
    char **names = realloc(m->sheet_names, (m->nsheet_names + 1) * sizeof *names);
    if (!names)
        return NULL;
    m->sheet_names = names;
    if (!(names[m->nsheet_names] = strdup(name)))
        return NULL;
    m->nsheet_names++;
    lxw_worksheet *ws = workbook_add_worksheet(m->wb, name);
    if (ws)
        worksheet_set_comments_author(ws, "perfsheet");
    return ws;
}

/* Columns a landscape A4 page holds legibly: a wider sheet prints on as many pages across (the
 * unit column repeated on each), not shrunk to one unreadable page. */
enum { PRINT_COLS_PER_PAGE = 16 };

/* Landscape A4, ncols columns on ceil(ncols / PRINT_COLS_PER_PAGE) pages across (one page wide
 * for most sheets), the header row and the first column on every page. */
static void print_setup(lxw_worksheet *ws, uint32_t header_row, uint32_t ncols)
{
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9);
    uint32_t across = (ncols + PRINT_COLS_PER_PAGE - 1) / PRINT_COLS_PER_PAGE;
    worksheet_fit_to_pages(ws, (uint16_t)(across > 1 ? across : 1), 0);
    worksheet_repeat_rows(ws, header_row, header_row);
    worksheet_repeat_columns(ws, 0, 0);
    worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6);
    worksheet_set_footer(ws, "&L&A&R第 &P 页，共 &N 页");
}

/* Starts sheet number index (0-based) of p. */
static bool part_sheet(ps_merge *m, part *p)
{
    size_t i = p->nsheets;
    char want[WRITER_SHEET_BYTES + 16];
    if (i == 0)
        snprintf(want, sizeof want, "%s", p->base);
    else
        snprintf(want, sizeof want, "%.*s (%zu)", 24, p->base, i + 1);
    lxw_worksheet **sheets = realloc(p->sheets, (i + 1) * sizeof *sheets);
    if (!sheets)
        return false;
    p->sheets = sheets;
    char(*names)[WRITER_SHEET_BYTES + 16] = realloc(p->names, (i + 1) * sizeof *names);
    if (!names)
        return false;
    p->names = names;
    if (i > 0 && strlen(p->base) > 24) { /* cut at a character boundary */
        char base[WRITER_SHEET_BYTES + 8];
        snprintf(base, sizeof base, "%s", p->base);
        size_t chars = 0, o = 0;
        while (base[o] && chars < 24) {
            o++;
            while (((unsigned char)base[o] & 0xC0) == 0x80)
                o++;
            chars++;
        }
        base[o] = '\0';
        snprintf(want, sizeof want, "%s (%zu)", base, i + 1);
    }
    lxw_worksheet *ws = new_sheet(m, want, p->names[i], sizeof p->names[i]);
    if (!ws)
        return false;
    p->sheets[i] = ws;
    p->nsheets++;
    p->write_head(m, p, ws, i);
    return true;
}

static uint32_t rows_per_sheet(const ps_merge *m, const part *p)
{
    uint32_t limit = m->opt.sheet_rows;
    return limit > p->head ? limit - p->head : 1;
}

/* Creates the sheets rows data rows need (at least one), in the workbook's order: every part
 * is laid out before any row is written, so that all parts can be filled in one pass. */
static void part_open(ps_merge *m, part *p, size_t rows)
{
    size_t per = rows_per_sheet(m, p), n = rows ? (rows + per - 1) / per : 1;
    p->cur = 0;
    p->row = p->head;
    for (size_t i = 0; i < n && !m->nomem; i++)
        if (!part_sheet(m, p))
            m->nomem = true;
}

/* The next data row of p (on the next sheet when this one is full), or UINT32_MAX. */
static uint32_t part_row(ps_merge *m, part *p, lxw_worksheet **ws)
{
    if (p->nsheets == 0 || p->row - p->head >= rows_per_sheet(m, p)) {
        if (p->nsheets)
            p->cur++;
        if (p->cur >= p->nsheets && !part_sheet(m, p)) {
            m->nomem = true;
            return UINT32_MAX;
        }
        p->row = p->head;
        p->links = p->notes = 0;
    }
    *ws = p->sheets[p->cur];
    p->rows++;
    return p->row++;
}

/* Where data row g (0-based over the whole part) is: its sheet's name and row. */
static const char *part_locate(const ps_merge *m, const part *p, size_t g, uint32_t *row)
{
    size_t per = rows_per_sheet(m, p), sheet = g / per;
    if (sheet >= p->nsheets)
        return NULL;
    *row = p->head + (uint32_t)(g % per);
    return p->names[sheet];
}

/* Autofilter over the header and data of every sheet of p, and the column widths (a negative
 * width: a hidden column). */
static void part_finish(ps_merge *m, part *p, const double *widths)
{
    size_t per = rows_per_sheet(m, p);
    for (size_t i = 0; i < p->nsheets; i++) {
        size_t rows = i + 1 < p->nsheets ? per : p->rows - per * i;
        if (rows)
            worksheet_autofilter(p->sheets[i], p->head - 1, 0, (lxw_row_t)(p->head - 1 + rows),
                                 (lxw_col_t)(p->ncols - 1));
        for (uint16_t c = 0; widths && c < p->ncols; c++) {
            lxw_row_col_options hide = {.hidden = 1};
            worksheet_set_column_opt(p->sheets[i], c, c, widths[c] < 0 ? 8 : widths[c], NULL,
                                     widths[c] < 0 ? &hide : NULL);
        }
    }
}

static void write_header_row(ps_merge *m, lxw_worksheet *ws, uint32_t row, const char *const *fixed,
                             size_t nfixed, const merge_col *cols, size_t ncols, const char *tail)
{
    lxw_format *h = ps_wr_format(&m->fm, WR_K_HEADER, 0);
    uint16_t c = 0;
    for (size_t i = 0; i < nfixed; i++, c++)
        note(m, ps_wr_write_string(ws, row, c, fixed[i], h));
    for (size_t i = 0; i < ncols && c < LXW_COL_MAX - 1; i++, c++)
        note(m, ps_wr_write_string(ws, row, c, cols[i].label, h));
    if (tail)
        note(m, ps_wr_write_string(ws, row, c, tail, h));
    worksheet_set_row(ws, row, 30, NULL);
}

/* A value with its fill and, while the sheet takes more, its findings as a comment. */
static void write_flagged(ps_merge *m, part *p, lxw_worksheet *ws, uint32_t r, uint16_t c, const ps_value *v,
                          ps_field_type t, const ps_findings *fl, const char *sheet, uint32_t src_row,
                          uint32_t src_col)
{
    char msg[MSG_MAX];
    msg[0] = '\0';
    int sev = src_row != PS_NO_CELL ? ps_wr_cell_severity(fl, sheet, src_row, src_col, msg, sizeof msg) : 0;
    if (!v && !sev)
        return; /* blank stays blank: nothing to write */
    note(m, ps_wr_write_value(ws, r, c, v, t, &m->fm, sev));
    if (!sev)
        return;
    if (p->notes >= MAX_COMMENTS) {
        p->notes_dropped++;
        return;
    }
    ps_wr_sanitize(msg);
    note(m, ps_wr_write_comment(ws, r, c, msg));
    p->notes++;
}

/* "internal:'<sheet>'!<A1>", apostrophes doubled. */
static void internal_link(const char *sheet, uint32_t row, uint16_t col, char *buf, size_t size)
{
    char quoted[2 * WRITER_SHEET_BYTES + 32], a1[20];
    size_t o = 0;
    for (const char *s = sheet; *s && o + 3 < sizeof quoted; s++) {
        if (*s == '\'')
            quoted[o++] = '\'';
        quoted[o++] = *s;
    }
    quoted[o] = '\0';
    snprintf(buf, size, "internal:'%s'!%s", quoted, ps_cell_ref(row, col, a1, sizeof a1));
}

/* ---- open ---- */

static bool push_col(merge_col **cols, size_t *n, const merge_col *c)
{
    for (size_t i = 0; i < *n; i++)
        if (!(*cols)[i].table && !c->table && strcmp((*cols)[i].key, c->key) == 0)
            return true;
    merge_col *p = realloc(*cols, (*n + 1) * sizeof *p);
    if (!p)
        return false;
    *cols = p;
    p[*n] = *c;
    if (!p[*n].label || !p[*n].label[0])
        p[*n].label = c->key;
    p[*n].num = p[*n].den = -1;
    (*n)++;
    return true;
}

static bool is_numeric(ps_field_type t)
{
    return t == PS_TYPE_MONEY || t == PS_TYPE_NUMBER || t == PS_TYPE_INT || t == PS_TYPE_FRACTION;
}

/* Replaces every {name} of the binding in s (into buf). */
static const char *bind(const char *s, const rbinding *b, size_t k, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 1 < size;) {
        bool done = false;
        for (size_t v = 0; s[i] == '{' && v < b->nvars && !done; v++) {
            size_t n = strlen(b->names[v]);
            if (strncmp(s + i + 1, b->names[v], n) == 0 && s[i + 1 + n] == '}') {
                o += (size_t)snprintf(buf + o, size - o, "%s", b->values[v][k]);
                i += n + 2;
                done = true;
            }
        }
        if (!done)
            buf[o++] = s[i++];
    }
    buf[o < size ? o : size - 1] = '\0';
    return buf;
}

/* The ratios of mapping mp: its rules with `computed: true` whose check is `X = A / B` over
 * plain fields (read from the compiled rule, so no template is known to C). */
static ps_status find_ratios(ps_merge *m, summary *s, ps_error *err)
{
    (void)err;
    const ps_ruleset *rs = ps_mapping_rules(s->m); /* compiled at load, borrowed */
    for (size_t i = 0; i < ps_ruleset_count(rs); i++) {
        const ps_rule *r = ps_ruleset_at(rs, i);
        const rnode *c = r->primary;
        if (!r->computed || !c || c->kind != N_CMP || c->op != T_EQ || c->nargs != 2)
            continue;
        const rnode *x = c->args[0], *d = c->args[1];
        if (x->kind != N_FIELD || x->ns || d->kind != N_ARITH || d->op != '/' || d->nargs != 2 ||
            d->args[0]->kind != N_FIELD || d->args[0]->ns || d->args[1]->kind != N_FIELD || d->args[1]->ns)
            continue;
        size_t n = r->vars.nvars ? r->vars.count : 1;
        for (size_t k = 0; k < n; k++) {
            char bx[256], ba[256], bb[256];
            ratio q = {x->str, d->args[0]->str, d->args[1]->str};
            if (r->vars.nvars) {
                q.x = bind(q.x, &r->vars, k, bx, sizeof bx);
                q.a = bind(q.a, &r->vars, k, ba, sizeof ba);
                q.b = bind(q.b, &r->vars, k, bb, sizeof bb);
            }
            ratio *p = realloc(s->ratios, (s->nratios + 1) * sizeof *p);
            if (!p) {
                return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
            }
            s->ratios = p;
            p[s->nratios].x = ps_arena_strdup(&m->arena, q.x);
            p[s->nratios].a = ps_arena_strdup(&m->arena, q.a);
            p[s->nratios].b = ps_arena_strdup(&m->arena, q.b);
            if (!p[s->nratios].x || !p[s->nratios].a || !p[s->nratios].b) {
                return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
            }
            s->nratios++;
        }
    }
    return PS_OK;
}

static ps_status build_layout(ps_merge *m, ps_error *err)
{
    size_t nm = ps_mapping_set_count(m->set);
    m->sums = calloc(nm ? nm : 1, sizeof *m->sums);
    if (!m->sums)
        return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
    for (size_t i = 0; i < nm; i++) {
        const ps_mapping *mp = ps_mapping_set_at(m->set, i);
        if (!mp || !ps_mapping_detectable(mp))
            continue;
        summary *s = &m->sums[m->nsums++];
        s->m = mp;
        ps_status st = ps_wr_layout_build(mp, &s->layout, err);
        if (st == PS_OK)
            st = find_ratios(m, s, err);
        if (st != PS_OK)
            return st;
        size_t nf = ps_mapping_field_count(mp);
        for (size_t f = 0; f < nf; f++) {
            const ps_field_spec *fs = ps_mapping_field(mp, f);
            if (!fs || !fs->key || fs->table || !strcmp(fs->key, "unit_name") || !strcmp(fs->key, "year"))
                continue;
            merge_col c = {.key = fs->key, .label = ps_wr_field_label(s->layout, fs->key), .type = fs->type};
            if (!push_col(&s->fields, &s->nfields, &c))
                return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
        }
        /* money is summed, and so are the operands of a ratio (编制数 for 控制率) */
        for (size_t c = 0; c < s->nfields; c++) {
            merge_col *col = &s->fields[c];
            col->summed = col->type == PS_TYPE_MONEY;
            for (size_t q = 0; q < s->nratios; q++) {
                if (!strcmp(col->key, s->ratios[q].a) || !strcmp(col->key, s->ratios[q].b))
                    col->summed = is_numeric(col->type);
            }
        }
        for (size_t q = 0; q < s->nratios; q++) {
            int x = -1, a = -1, b = -1;
            for (size_t c = 0; c < s->nfields; c++) {
                if (!strcmp(s->fields[c].key, s->ratios[q].x))
                    x = (int)c;
                if (!strcmp(s->fields[c].key, s->ratios[q].a))
                    a = (int)c;
                if (!strcmp(s->fields[c].key, s->ratios[q].b))
                    b = (int)c;
            }
            if (x >= 0 && a >= 0 && b >= 0 && s->fields[a].summed && s->fields[b].summed) {
                s->fields[x].num = a;
                s->fields[x].den = b;
                s->fields[x].summed = false;
            }
        }
        /* tables with `detail: false`: their rows become columns */
        const wr_layout *l = s->layout;
        for (size_t b = 0; b < l->nblocks; b++) {
            const wr_block *blk = &l->blocks[b];
            if (blk->kind != WR_TABLE || !blk->detail || blk->detail[0] || blk->nrows == 0)
                continue;
            const char *label_key = NULL;
            for (size_t c = 0; c < blk->nrows && !label_key; c++)
                if (!is_numeric(ps_wr_type(l, blk->rows[c].key, blk->table, NULL)))
                    label_key = blk->rows[c].key;
            if (!label_key)
                continue;
            sheetless *p = realloc(s->tables, (s->ntables + 1) * sizeof *p);
            if (!p)
                return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
            s->tables = p;
            p[s->ntables++] = (sheetless){.blk = blk, .label_key = label_key};
        }
        char want[256];
        snprintf(want, sizeof want, "汇总-%s", s->layout->sheet);
        snprintf(s->p.base, sizeof s->p.base, "%s", want);
    }
    /* 明细: one per table a layout names (detail:, default 明细-<table>), columns the union
     * over mappings in layout order */
    for (size_t i = 0; i < m->nsums; i++) {
        const wr_layout *l = m->sums[i].layout;
        for (size_t b = 0; b < l->nblocks; b++) {
            const wr_block *blk = &l->blocks[b];
            if (blk->kind != WR_TABLE || (blk->detail && !blk->detail[0]))
                continue;
            detail *d = NULL;
            for (size_t k = 0; k < m->ndetails; k++)
                if (strcmp(m->details[k].table, blk->table) == 0)
                    d = &m->details[k];
            if (!d) {
                detail *p = realloc(m->details, (m->ndetails + 1) * sizeof *p);
                if (!p)
                    return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
                m->details = p;
                d = &p[m->ndetails++];
                memset(d, 0, sizeof *d);
                d->table = blk->table;
                d->title = blk->detail;
                if (d->title)
                    snprintf(d->p.base, sizeof d->p.base, "%s", d->title);
                else
                    snprintf(d->p.base, sizeof d->p.base, "明细-%s", d->table);
            }
            for (size_t c = 0; c < blk->nrows; c++) {
                merge_col col = {.key = blk->rows[c].key,
                                 .label = blk->rows[c].label,
                                 .type = ps_wr_type(l, blk->rows[c].key, blk->table, NULL)};
                if (!push_col(&d->cols, &d->ncols, &col))
                    return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
            }
        }
    }
    snprintf(m->findings.base, sizeof m->findings.base, "校验结果");
    snprintf(m->files.base, sizeof m->files.base, "文件");
    return PS_OK;
}

static void part_free(part *p)
{
    free(p->sheets);
    free(p->names);
}

static void merge_free(ps_merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nsums; i++) {
        summary *s = &m->sums[i];
        free(s->fields);
        free(s->cols);
        for (size_t t = 0; t < s->ntables; t++)
            free(s->tables[t].labels);
        free(s->tables);
        free(s->ratios);
        free(s->w);
        part_free(&s->p);
        ps_wr_layout_free(s->layout);
    }
    free(m->sums);
    for (size_t i = 0; i < m->ndetails; i++) {
        free(m->details[i].cols);
        free(m->details[i].w);
        part_free(&m->details[i].p);
    }
    free(m->details);
    part_free(&m->findings);
    part_free(&m->files);
    for (size_t i = 0; i < m->nsheet_names; i++)
        free(m->sheet_names[i]);
    free(m->sheet_names);
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->fl[i].path);
        free(m->fl[i].error);
    }
    free(m->fl);
    free(m->docs);
    free(m->drows);
    for (size_t i = 0; i < m->nunits; i++)
        free(m->units[i]);
    free(m->units);
    free(m->unit_slot);
    free(m->keys);
    free(m->buf);
    if (m->spill >= 0)
        close(m->spill);
    ps_arena_release(&m->arena);
    free(m->out_path);
    free(m);
}

ps_status ps_merge_open_opt(const ps_mapping_set *set, const char *out_path, const ps_merge_options *opt,
                            ps_error *err, ps_merge **out)
{
    if (!out_path || !*out_path)
        return ps_error_set(err, PS_ERR_USAGE, NULL, "merge: 缺少输出文件");
    ps_merge *m = calloc(1, sizeof *m);
    if (!m || !(m->out_path = strdup(out_path))) {
        free(m);
        return ps_error_set(err, PS_ERR_NOMEM, out_path, "内存不足");
    }
    m->spill = -1;
    m->set = set;
    if (opt)
        m->opt = *opt;
    if (m->opt.sheet_rows == 0 || m->opt.sheet_rows > LXW_ROW_MAX)
        m->opt.sheet_rows = LXW_ROW_MAX;
    ps_wr_temp_path(out_path, m->tmp, sizeof m->tmp);
    m->wb = ps_wr_workbook_new(m->tmp, true, "汇总", err);
    if (!m->wb) {
        ps_status st = err ? err->code : PS_ERR_IO;
        merge_free(m);
        return st;
    }
    m->fm.wb = m->wb;
    ps_status st = build_layout(m, err);
    if (st != PS_OK) {
        ps_merge_abort(m);
        return st;
    }
    *out = m;
    return PS_OK;
}

ps_status ps_merge_open(const ps_mapping_set *set, const char *out_path, ps_error *err, ps_merge **out)
{
    return ps_merge_open_opt(set, out_path, NULL, err, out);
}

/* ---- adding files: the index and the spill ---- */

/* The id of unit name (first-appearance order), added when new; UINT32_MAX on out-of-memory. */
static uint32_t unit_id(ps_merge *m, const char *name)
{
    if ((m->nunits + 1) * 2 > m->unit_slots) {
        size_t slots = m->unit_slots ? m->unit_slots * 2 : 1024;
        uint32_t *t = calloc(slots, sizeof *t);
        if (!t)
            return UINT32_MAX;
        for (size_t i = 0; i < m->unit_slots; i++)
            if (m->unit_slot[i]) {
                size_t j = fnv(m->units[m->unit_slot[i] - 1]) & (slots - 1);
                while (t[j])
                    j = (j + 1) & (slots - 1);
                t[j] = m->unit_slot[i];
            }
        free(m->unit_slot);
        m->unit_slot = t;
        m->unit_slots = slots;
    }
    size_t j = fnv(name) & (m->unit_slots - 1);
    for (; m->unit_slot[j]; j = (j + 1) & (m->unit_slots - 1))
        if (!strcmp(m->units[m->unit_slot[j] - 1], name))
            return m->unit_slot[j] - 1;
    if (!grow((void **)&m->units, &m->units_cap, m->nunits + 1, sizeof *m->units))
        return UINT32_MAX;
    char *copy = name ? strdup(name) : NULL;
    if (!copy)
        return UINT32_MAX;
    m->units[m->nunits] = copy;
    m->unit_slot[j] = (uint32_t)++m->nunits;
    return (uint32_t)(m->nunits - 1);
}

/* Adds key to the set of (template, year, unit) seen: false when it was there. */
static bool key_add(ps_merge *m, uint64_t key, bool *nomem)
{
    if ((m->nkeys + 1) * 2 > m->key_slots) {
        size_t slots = m->key_slots ? m->key_slots * 2 : 1024;
        uint64_t *t = malloc(slots * sizeof *t);
        if (!t) {
            *nomem = true;
            return true;
        }
        memset(t, 0xFF, slots * sizeof *t);
        for (size_t i = 0; i < m->key_slots; i++)
            if (m->keys[i] != UINT64_MAX) {
                size_t j = (m->keys[i] * 0x9E3779B97F4A7C15ULL >> 20) & (slots - 1);
                while (t[j] != UINT64_MAX)
                    j = (j + 1) & (slots - 1);
                t[j] = m->keys[i];
            }
        free(m->keys);
        m->keys = t;
        m->key_slots = slots;
    }
    size_t j = (key * 0x9E3779B97F4A7C15ULL >> 20) & (m->key_slots - 1);
    for (; m->keys[j] != UINT64_MAX; j = (j + 1) & (m->key_slots - 1))
        if (m->keys[j] == key)
            return false;
    m->keys[j] = key;
    m->nkeys++;
    return true;
}

static double fill_time(const ps_document *doc)
{
    const ps_value *v = ps_document_get(doc, "fill_date");
    lxw_datetime dt;
    if (!v || !ps_wr_parse_date(v->text, &dt))
        return -INFINITY;
    return ((dt.year * 13.0 + dt.month) * 32 + dt.day) * 86400.0 + dt.hour * 3600.0 + dt.min * 60.0 + dt.sec;
}

static int summary_index(const ps_merge *m, const char *tpl)
{
    for (size_t i = 0; i < m->nsums; i++)
        if (strcmp(ps_mapping_id(m->sums[i].m), tpl) == 0)
            return (int)i;
    return -1;
}

static const ps_value *sum_value(const ps_document *doc, const merge_col *c, uint32_t *row, uint32_t *col,
                                 const char **sheet);

/* What doc adds to its 汇总's totals, widths and used columns as it comes; sign -1 takes a
 * duplicate's figures out of the totals again. */
static void account(summary *s, const ps_document *doc, const char *file, double sign)
{
    if (sign > 0) {
        const char *unit = ps_document_unit(doc);
        if (unit && text_width(unit) > s->unit_w)
            s->unit_w = text_width(unit);
        if (text_width(file) > s->file_w)
            s->file_w = text_width(file);
    }
    for (size_t c = 0; c < s->nfields; c++) {
        merge_col *col = &s->fields[c];
        uint32_t r, cc;
        const char *vsheet;
        const ps_value *v = sum_value(doc, col, &r, &cc, &vsheet);
        if (sign > 0) {
            size_t w = value_width(v, col->type);
            if (w > col->width)
                col->width = w;
            if (!col->used)
                col->used = v || (r != PS_NO_CELL && ps_wr_cell_severity(ps_document_findings_const(doc),
                                                                         vsheet, r, cc, NULL, 0));
        }
        if (col->summed && v && v->has_number && isfinite(v->number)) {
            col->total += sign * v->number;
            col->any += sign > 0 ? 1 : (size_t)-1;
        }
    }
}

/* Remembers the labels of doc's sheet-less table rows (the columns they will get). */
static bool note_labels(ps_merge *m, summary *s, const ps_document *doc)
{
    for (size_t t = 0; t < s->ntables; t++) {
        sheetless *sl = &s->tables[t];
        const ps_table *tb = ps_document_table(doc, sl->blk->table);
        for (size_t r = 0; tb && r < ps_table_row_count(tb); r++) {
            const ps_value *v = ps_table_get(tb, r, sl->label_key);
            const char *label = v && v->text ? v->text : NULL;
            if (!label || !*label)
                continue;
            bool known = false;
            for (size_t i = 0; i < sl->nlabels && !known; i++)
                known = strcmp(sl->labels[i], label) == 0;
            if (known)
                continue;
            if (sl->nlabels >= MAX_ROW_LABELS) {
                sl->left_out++;
                continue;
            }
            const char **p = realloc(sl->labels, (sl->nlabels + 1) * sizeof *p);
            char *copy = ps_arena_strdup(&m->arena, label);
            if (!p || !copy) {
                if (p)
                    sl->labels = p;
                return false;
            }
            sl->labels = p;
            p[sl->nlabels++] = copy;
        }
    }
    return true;
}

static bool spill_doc(ps_merge *m, const ps_document *doc, mdoc *d)
{
    if (m->spill < 0 && (m->spill = ps_wr_spill_file()) < 0)
        return false;
    char *data = NULL;
    size_t len = 0;
    if (!ps_document_encode(doc, &data, &len))
        return false;
    bool ok = len <= UINT32_MAX;
    for (size_t done = 0; ok && done < len;) {
        ssize_t w = pwrite(m->spill, data + done, len - done, m->spill_end + (off_t)done);
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    free(data);
    if (!ok)
        return false;
    d->at = m->spill_end;
    d->len = (uint32_t)len;
    m->spill_end += (off_t)len;
    return true;
}

/* Document i read back from the spill; NULL on failure (m->failed or m->nomem set). */
static ps_document *load_doc(ps_merge *m, size_t i)
{
    const mdoc *d = &m->docs[i];
    if (!grow((void **)&m->buf, &m->buf_cap, d->len ? d->len : 1, 1)) {
        m->nomem = true;
        return NULL;
    }
    for (size_t done = 0; done < d->len;) {
        ssize_t r = pread(m->spill, m->buf + done, d->len - done, d->at + (off_t)done);
        if (r <= 0) {
            note(m, LXW_ERROR_CREATING_TMPFILE);
            return NULL;
        }
        done += (size_t)r;
    }
    ps_document *doc = ps_document_decode(m->buf, d->len);
    if (!doc)
        m->nomem = true;
    return doc;
}

ps_status ps_merge_add_file(ps_merge *m, const char *file, ps_status status, const ps_error *file_err,
                            ps_document *const *docs, size_t ndocs)
{
    if (!m || !file)
        return PS_ERR_USAGE;
    if (!grow((void **)&m->fl, &m->files_cap, m->nfiles + 1, sizeof *m->fl))
        return PS_ERR_NOMEM;
    mfile *f = &m->fl[m->nfiles];
    memset(f, 0, sizeof *f);
    f->status = status;
    f->first_doc = (uint32_t)m->ndocs;
    if (!(f->path = strdup(file)))
        return PS_ERR_NOMEM;
    if (status != PS_OK && file_err && file_err->message[0] && !(f->error = strdup(file_err->message))) {
        free(f->path);
        return PS_ERR_NOMEM;
    }
    m->nfiles++;
    if (status != PS_OK)
        return PS_OK;
    for (size_t k = 0; k < ndocs; k++) {
        const ps_document *doc = docs[k];
        if (!doc)
            continue;
        if (!grow((void **)&m->docs, &m->docs_cap, m->ndocs + 1, sizeof *m->docs))
            return PS_ERR_NOMEM;
        mdoc *d = &m->docs[m->ndocs];
        memset(d, 0, sizeof *d);
        d->file = (uint32_t)(m->nfiles - 1);
        d->seq = (uint32_t)k;
        d->year = ps_document_year(doc);
        d->sum = summary_index(m, ps_document_template(doc));
        d->filled = fill_time(doc);
        d->winner = NO_DOC;
        const char *unit = ps_document_unit(doc);
        d->has_unit = unit && *unit;
        /* a document without a unit name is a unit of its own, in its place */
        char solo[32];
        snprintf(solo, sizeof solo, "\x1f%zu", m->ndocs);
        d->unit = unit_id(m, d->has_unit ? unit : solo);
        if (d->unit == UINT32_MAX)
            return PS_ERR_NOMEM;
        if (!spill_doc(m, doc, d))
            return errno == ENOMEM ? PS_ERR_NOMEM : PS_ERR_IO;
        bool nomem = false;
        if (d->has_unit && d->year && d->sum >= 0 &&
            !key_add(m, (uint64_t)d->sum << 56 ^ (uint64_t)(uint32_t)d->year << 32 ^ d->unit, &nomem))
            m->duplicates++;
        if (nomem || (d->sum >= 0 && !note_labels(m, &m->sums[d->sum], doc)))
            return PS_ERR_NOMEM;
        if (d->sum >= 0)
            account(&m->sums[d->sum], doc, file, 1);
        if (m->ndetails &&
            !grow((void **)&m->drows, &m->drows_cap, (m->ndocs + 1) * m->ndetails, sizeof *m->drows))
            return PS_ERR_NOMEM;
        for (size_t t = 0; t < m->ndetails; t++) {
            const ps_table *tb = ps_document_table(doc, m->details[t].table);
            size_t rows = tb ? ps_table_row_count(tb) : 0;
            m->drows[m->ndocs * m->ndetails + t] = rows > UINT32_MAX ? UINT32_MAX : (uint32_t)rows;
        }
        const ps_findings *fs = ps_document_findings_const(doc);
        d->nfind = fs ? (uint32_t)ps_findings_count(fs) : 0;
        for (size_t i = 0; fs && i < ps_findings_count(fs); i++)
            if ((unsigned)ps_findings_at(fs, i)->severity < 3)
                f->counts[ps_findings_at(fs, i)->severity]++;
        m->ndocs++;
        f->ndocs++;
    }
    return m->failed ? PS_ERR_IO : PS_OK;
}

/* ---- close: duplicates and order ---- */

static ps_merge *sort_ctx; /* qsort has no context argument: the merge being sorted, under
                              sort_lock (two merges may close at once in one process) */

static int by_key(const void *a, const void *b)
{
    const mdoc *x = &sort_ctx->docs[*(const uint32_t *)a], *y = &sort_ctx->docs[*(const uint32_t *)b];
    if (x->sum != y->sum)
        return x->sum < y->sum ? -1 : 1;
    if (x->year != y->year)
        return x->year < y->year ? -1 : 1;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    if (x->filled != y->filled)
        return x->filled < y->filled ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_order(const void *a, const void *b)
{
    const mdoc *x = &sort_ctx->docs[*(const uint32_t *)a], *y = &sort_ctx->docs[*(const uint32_t *)b];
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    if (x->year != y->year)
        return x->year < y->year ? -1 : 1;
    if (x->sum != y->sum)
        return x->sum < y->sum ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static void sort_docs(ps_merge *m, uint32_t *idx, int (*cmp)(const void *, const void *))
{
    pthread_mutex_lock(&sort_lock);
    sort_ctx = m;
    qsort(idx, m->ndocs, sizeof *idx, cmp);
    sort_ctx = NULL;
    pthread_mutex_unlock(&sort_lock);
}

/* Of each group of documents sharing template, year and unit, the one with the later
 * 填报时间 (then the later file, then the later sheet) is summed; the others point at it. */
static void resolve_duplicates(ps_merge *m, uint32_t *idx)
{
    for (size_t i = 0; i < m->ndocs; i++)
        idx[i] = (uint32_t)i;
    sort_docs(m, idx, by_key);
    for (size_t i = 0; i < m->ndocs;) {
        size_t j = i + 1;
        const mdoc *a = &m->docs[idx[i]];
        while (j < m->ndocs && a->has_unit && a->year && a->sum >= 0 && m->docs[idx[j]].sum == a->sum &&
               m->docs[idx[j]].year == a->year && m->docs[idx[j]].unit == a->unit)
            j++;
        for (size_t k = i; k + 1 < j; k++)
            m->docs[idx[k]].winner = idx[j - 1];
        i = j;
    }
    for (size_t i = 0; i < m->ndocs; i++)
        idx[i] = (uint32_t)i;
    sort_docs(m, idx, by_order);
}

/* Why doc i lost to its winner, in words. */
static void duplicate_reason(const ps_merge *m, size_t i, char *buf, size_t size)
{
    const mdoc *d = &m->docs[i], *w = &m->docs[d->winner];
    if (w->filled > d->filled)
        snprintf(buf, size, "其填报时间较晚");
    else if (w->file != d->file)
        snprintf(buf, size, "填报时间%s，以文件列表中靠后的文件为准", isinf(w->filled) ? "均未填" : "相同");
    else
        snprintf(buf, size, "同一文件中靠后的工作表");
}

/* ---- close: 汇总 ---- */

enum { SUM_HEAD = 4 }; /* title, legend, 合计, header */

static void sum_head(ps_merge *m, part *p, lxw_worksheet *ws, size_t index)
{
    summary *s = p->ctx;
    char title[512];
    if (index == 0)
        snprintf(title, sizeof title, "%s 汇总（%zu 个单位）", s->title, s->docs);
    else
        snprintf(title, sizeof title, "%s 汇总（续 %zu，合计见「%s」）", s->title, index + 1, p->names[0]);
    note(m, ps_wr_write_string(ws, 0, 0, title, ps_wr_format(&m->fm, WR_K_TITLE, 0)));
    worksheet_set_row(ws, 0, 24, NULL);
    note(m, ps_wr_write_string(ws, 1, 0, "标色说明（详见批注）", ps_wr_format(&m->fm, WR_K_LABEL, 0)));
    for (int k = 0; k < 3; k++)
        note(m, ps_wr_write_string(ws, 1, (uint16_t)(1 + k), LEGEND[k],
                                   ps_wr_format(&m->fm, WR_K_HEADER, 3 - k)));
    note(m, ps_wr_write_string(ws, 1, 4, s->note, ps_wr_format(&m->fm, WR_K_NOTE, 0)));
    lxw_format *tl = ps_wr_format_total(&m->fm, WR_K_TEXT);
    if (index == 0) {
        char label[64];
        snprintf(label, sizeof label, "合计（%zu 个单位）", s->docs);
        note(m, ps_wr_write_string(ws, 2, 0, label, tl));
        note(m, worksheet_write_blank(ws, 2, 1, tl));
        for (size_t i = 0; i < s->ncols && i + 2 < LXW_COL_MAX - 1; i++) {
            const merge_col *col = &s->cols[i];
            uint16_t cc = (uint16_t)(2 + i);
            double v = NAN;
            if (col->summed && col->any)
                v = round(col->total * 1e6) / 1e6; /* no binary noise: 91, not 90.99999999999999 */
            else if (col->num >= 0 && s->cols[col->num].any && s->cols[col->den].any &&
                     s->cols[col->den].total != 0)
                v = s->cols[col->num].total / s->cols[col->den].total;
            wr_kind k = col->num >= 0 ? WR_K_RATE : ps_wr_kind_of(col->type);
            if (isfinite(v))
                note(m, worksheet_write_number(ws, 2, cc, v, ps_wr_format_total(&m->fm, k)));
            else
                note(m, worksheet_write_blank(ws, 2, cc, tl));
        }
        note(m, worksheet_write_blank(ws, 2, (uint16_t)(2 + s->ncols), tl));
    } else {
        note(m, ps_wr_write_string(ws, 2, 0, "合计见第一张表", tl));
    }
    static const char *const fixed[] = {"填报单位", "年度"};
    write_header_row(m, ws, 3, fixed, 2, s->cols, s->ncols, "文件");
    worksheet_freeze_panes(ws, SUM_HEAD, 1);
    print_setup(ws, 3, (uint32_t)(3 + s->ncols));
}

/* A 汇总 column's value in doc and the cell it came from (or the blank cell remembered). */
/* *sheet: the name of the cell's sheet (a multi-sheet template reads several). */
static const ps_value *sum_value(const ps_document *doc, const merge_col *c, uint32_t *row, uint32_t *col,
                                 const char **sheet)
{
    const ps_value *v = NULL;
    *row = *col = PS_NO_CELL;
    *sheet = ps_document_sheet(doc);
    if (!c->table) {
        v = ps_document_get(doc, c->key);
        size_t si;
        if (!v && ps_document_blank_cell_on(doc, c->key, &si, row, col) && ps_document_sheet_at(doc, si))
            *sheet = ps_document_sheet_at(doc, si);
    } else {
        const ps_table *t = ps_document_table(doc, c->table);
        for (size_t r = 0; t && r < ps_table_row_count(t); r++) {
            const ps_value *l = ps_table_get(t, r, c->label_key);
            if (l && l->text && strcmp(l->text, c->row_label) == 0) {
                v = ps_table_get(t, r, c->key);
                break;
            }
        }
    }
    if (v) {
        *row = v->row;
        *col = v->col;
        *sheet = ps_document_value_sheet(doc, v);
    }
    return v;
}

static ps_status build_sum_cols(ps_merge *m, summary *s)
{
    free(s->cols);
    s->ncols = 0;
    s->cols = malloc((s->nfields + 1) * sizeof *s->cols);
    if (!s->cols)
        return PS_ERR_NOMEM;
    memcpy(s->cols, s->fields, s->nfields * sizeof *s->cols);
    s->ncols = s->nfields;
    for (size_t t = 0; t < s->ntables; t++) {
        const sheetless *sl = &s->tables[t];
        for (size_t l = 0; l < sl->nlabels; l++)
            for (size_t c = 0; c < sl->blk->nrows; c++) {
                const wr_item *it = &sl->blk->rows[c];
                ps_field_type type = ps_wr_type(s->layout, it->key, sl->blk->table, NULL);
                if (!is_numeric(type))
                    continue;
                size_t len = strlen(sl->labels[l]) + strlen(it->label ? it->label : it->key) + 2;
                char *label = ps_arena_alloc(&m->arena, len);
                if (!label)
                    return PS_ERR_NOMEM;
                snprintf(label, len, "%s%s", sl->labels[l], it->label ? it->label : it->key);
                merge_col *p = realloc(s->cols, (s->ncols + 1) * sizeof *p);
                if (!p)
                    return PS_ERR_NOMEM;
                s->cols = p;
                p[s->ncols++] = (merge_col){.key = it->key,
                                            .label = label,
                                            .table = sl->blk->table,
                                            .label_key = sl->label_key,
                                            .row_label = sl->labels[l],
                                            .type = type,
                                            .num = -1,
                                            .den = -1,
                                            .used = true,
                                            .width = text_width(label) / 2 + 2};
            }
    }
    return PS_OK;
}

/* Takes the duplicates out of s's totals, builds its columns and widths and lays out its
 * sheets. Nothing when no document used the template. */
static void prepare_summary(ps_merge *m, summary *s)
{
    /* the totals were taken as documents came: take the duplicates out again */
    size_t unit_w = s->unit_w > 8 ? s->unit_w : 8, file_w = s->file_w > 8 ? s->file_w : 8;
    s->docs = 0;
    int32_t sum_index = (int32_t)(s - m->sums);
    for (size_t i = 0; i < m->ndocs && !m->nomem && !m->failed; i++) {
        const mdoc *d = &m->docs[i];
        if (d->sum != sum_index)
            continue;
        if (d->winner == NO_DOC) {
            s->docs++;
            continue;
        }
        ps_document *doc = load_doc(m, i);
        if (!doc)
            return;
        account(s, doc, m->fl[d->file].path, -1);
        ps_document_free(doc);
    }
    for (size_t c = 0; c < s->nfields; c++) {
        size_t lw = text_width(s->fields[c].label) / 2 + 2;
        if (lw > s->fields[c].width)
            s->fields[c].width = lw;
    }
    if (build_sum_cols(m, s) != PS_OK) {
        m->nomem = true;
        return;
    }
    if (s->docs == 0)
        return; /* no sheet for a template no file used */
    s->title = s->layout->title && s->layout->title[0] ? s->layout->title : s->layout->sheet;
    /* what the 合计 row holds, said in the legend row */
    size_t o = (size_t)snprintf(s->note, sizeof s->note, "合计行：金额为各单位之和");
    for (size_t c = 0; c < s->nfields && o < sizeof s->note; c++)
        if (s->cols[c].num >= 0)
            o += (size_t)snprintf(s->note + o, sizeof s->note - o, "，%s = Σ%s / Σ%s", s->cols[c].label,
                                  s->cols[s->cols[c].num].label, s->cols[s->cols[c].den].label);
    if (o < sizeof s->note)
        snprintf(s->note + o, sizeof s->note - o,
                 "；分值、得分、个数不合计。单位按在输入中首次出现的顺序排列。");
    ps_wr_utf8_trim_tail(s->note);
    part *p = &s->p;
    p->head = SUM_HEAD;
    p->ncols = (uint16_t)(s->ncols + 3 < LXW_COL_MAX ? s->ncols + 3 : LXW_COL_MAX);
    p->write_head = sum_head;
    p->ctx = s;
    double *w = s->w = calloc(p->ncols ? p->ncols : 1, sizeof *w);
    if (!w) {
        m->nomem = true;
        return;
    }
    bool hidden = false;
    w[0] = col_width(unit_w, 16);
    w[1] = 7;
    for (size_t c = 0; c < s->ncols && c + 2 < p->ncols; c++) {
        w[c + 2] = s->cols[c].used ? col_width(s->cols[c].width, 8) : -1;
        hidden |= !s->cols[c].used;
    }
    if (p->ncols > s->ncols + 2)
        w[s->ncols + 2] = col_width(file_w, 12);
    if (hidden) {
        o = strlen(s->note);
        snprintf(s->note + o, sizeof s->note - o, "没有任何单位填报的列已隐藏。");
        ps_wr_utf8_trim_tail(s->note);
    }
    part_open(m, p, s->docs);
}

/* doc's row of its 汇总. */
static void summary_row(ps_merge *m, summary *s, const ps_document *doc, const mdoc *d)
{
    part *p = &s->p;
    double *w = s->w;
    lxw_worksheet *ws;
    uint32_t r = part_row(m, p, &ws);
    if (r == UINT32_MAX)
        return;
    const ps_findings *fl = ps_document_findings_const(doc);
    const char *sheet = ps_document_sheet(doc);
    uint32_t sr, sc;
    const char *vsheet;
    const ps_value *unit = ps_document_get(doc, "unit_name"), *year = ps_document_get(doc, "year");
    unsigned lines = ps_wr_text_lines(ps_document_unit(doc), w[0]);
    for (size_t c = 0; c < s->ncols && c + 2 < p->ncols; c++) {
        const ps_value *v = sum_value(doc, &s->cols[c], &sr, &sc, &vsheet);
        if (v && ps_wr_kind_of(s->cols[c].type) == WR_K_TEXT && w[c + 2] > 0) {
            unsigned n = ps_wr_text_lines(v->text ? v->text : v->raw, w[c + 2]);
            lines = n > lines ? n : lines;
        }
    }
    if (lines > 1)
        worksheet_set_row(ws, r, ps_wr_row_height(lines), NULL);
    merge_col unit_col = {.key = "unit_name"}, year_col = {.key = "year"};
    (void)sheet;
    unit = sum_value(doc, &unit_col, &sr, &sc, &vsheet);
    write_flagged(m, p, ws, r, 0, unit, PS_TYPE_TEXT, fl, vsheet, sr, sc);
    year = sum_value(doc, &year_col, &sr, &sc, &vsheet);
    if (!year)
        sr = sc = PS_NO_CELL; /* a blank year cell is not flagged here (as before) */
    write_flagged(m, p, ws, r, 1, year, PS_TYPE_YEAR, fl, vsheet, sr, sc);
    for (size_t c = 0; c < s->ncols && c + 3 < LXW_COL_MAX; c++) {
        const ps_value *v = sum_value(doc, &s->cols[c], &sr, &sc, &vsheet);
        write_flagged(m, p, ws, r, (uint16_t)(2 + c), v, s->cols[c].type, fl, vsheet, sr, sc);
    }
    if (s->ncols + 3 <= LXW_COL_MAX)
        note(m, ps_wr_write_string(ws, r, (uint16_t)(2 + s->ncols), m->fl[d->file].path,
                                   ps_wr_format(&m->fm, WR_K_TEXT, 0)));
}

/* ---- close: 明细 ---- */

static const char *const DETAIL_FIXED[] = {"填报单位", "年度"};

static void detail_head(ps_merge *m, part *p, lxw_worksheet *ws, size_t index)
{
    (void)index;
    const detail *d = p->ctx;
    write_header_row(m, ws, 0, DETAIL_FIXED, 2, d->cols, d->ncols, "文件");
    worksheet_freeze_panes(ws, 1, 1);
    print_setup(ws, 0, 0);
}

/* Whether md's rows go to d: a summed document whose template's layout lists the table. */
static bool in_detail(const ps_merge *m, const mdoc *md, const detail *d)
{
    if (md->winner != NO_DOC || md->sum < 0)
        return false;
    const wr_layout *l = m->sums[md->sum].layout;
    for (size_t b = 0; b < l->nblocks; b++)
        if (l->blocks[b].kind == WR_TABLE && !strcmp(l->blocks[b].table, d->table) &&
            !(l->blocks[b].detail && !l->blocks[b].detail[0]))
            return true;
    return false;
}

/* d's widths, fixed up front so that each row's height can follow its wrapped text, and its
 * sheets. */
static void prepare_detail(ps_merge *m, detail *d)
{
    part *p = &d->p;
    p->head = 1;
    p->ncols = (uint16_t)(d->ncols + 3 < LXW_COL_MAX ? d->ncols + 3 : LXW_COL_MAX);
    p->write_head = detail_head;
    p->ctx = d;
    double *w = d->w = calloc(p->ncols, sizeof *w);
    if (!w) {
        m->nomem = true;
        return;
    }
    w[0] = 24;
    w[1] = 7;
    for (size_t c = 0; c < d->ncols && c + 2 < p->ncols; c++)
        w[c + 2] = col_width(text_width(d->cols[c].label) / 2 + 2,
                             ps_wr_kind_of(d->cols[c].type) == WR_K_TEXT ? 22 : 9);
    w[p->ncols - 1] = 36;
    size_t k = (size_t)(d - m->details), rows = 0, docs = 0;
    for (size_t i = 0; i < m->ndocs; i++)
        if (in_detail(m, &m->docs[i], d)) {
            rows += m->drows[i * m->ndetails + k];
            docs++;
        }
    if (docs) /* no sheet for the tables of templates no input holds (公开03表 beside 自评表s) */
        part_open(m, p, rows);
}

/* The rows of doc's table in d. */
static void detail_rows(ps_merge *m, detail *d, const ps_document *doc, const mdoc *md)
{
    part *p = &d->p;
    const double *w = d->w;
    lxw_format *text = ps_wr_format(&m->fm, WR_K_TEXT, 0);
    const ps_table *t = ps_document_table(doc, d->table);
    size_t rows = t ? ps_table_row_count(t) : 0;
    const ps_findings *fl = ps_document_findings_const(doc);
    const char *sheet = ps_document_sheet(doc);
    unsigned base = ps_wr_text_lines(ps_document_unit(doc), w[0]);
    unsigned path_lines = ps_wr_text_lines(m->fl[md->file].path, w[p->ncols - 1]);
    base = path_lines > base ? path_lines : base;
    for (size_t r = 0; r < rows; r++) {
        lxw_worksheet *ws;
        uint32_t row = part_row(m, p, &ws);
        if (row == UINT32_MAX)
            break;
        unsigned lines = base;
        for (size_t c = 0; c < d->ncols && c + 2 < p->ncols; c++) {
            const ps_value *v = ps_table_get(t, r, d->cols[c].key);
            if (v && (v->text || v->raw)) {
                unsigned n = ps_wr_text_lines(v->text ? v->text : v->raw, w[c + 2]);
                lines = n > lines ? n : lines;
            }
        }
        if (lines > 1)
            worksheet_set_row(ws, row, ps_wr_row_height(lines), NULL);
        note(m, ps_wr_write_value(ws, row, 0, ps_document_get(doc, "unit_name"), PS_TYPE_TEXT, &m->fm, 0));
        note(m, ps_wr_write_value(ws, row, 1, ps_document_get(doc, "year"), PS_TYPE_YEAR, &m->fm, 0));
        for (size_t c = 0; c < d->ncols && c + 3 < LXW_COL_MAX; c++) {
            const ps_value *v = ps_table_get(t, r, d->cols[c].key);
            write_flagged(m, p, ws, row, (uint16_t)(2 + c), v, d->cols[c].type, fl,
                          v ? ps_document_value_sheet(doc, v) : sheet, v ? v->row : PS_NO_CELL,
                          v ? v->col : PS_NO_CELL);
        }
        if (d->ncols + 3 <= LXW_COL_MAX)
            note(m, ps_wr_write_string(ws, row, (uint16_t)(2 + d->ncols), m->fl[md->file].path, text));
    }
}

/* ---- close: 校验结果 ---- */

static const char *const FINDING_HEADS[] = {"填报单位",   "年度",     "工作表", "源单元格",
                                            "汇总单元格", "严重程度", "规则",   "说明",
                                            "期望值",     "实际值",   "文件"};
#define NFINDING_HEADS 11
static const double FINDING_WIDTHS[NFINDING_HEADS] = {24, 7, 12, 9, 24, 9, 20, 60, 12, 12, 36};

static void findings_head(ps_merge *m, part *p, lxw_worksheet *ws, size_t index)
{
    (void)index;
    write_header_row(m, ws, 0, FINDING_HEADS, NFINDING_HEADS, NULL, 0, NULL);
    worksheet_freeze_panes(ws, 1, 1);
    print_setup(ws, 0, 0);
    (void)p;
}

/* Whether finding f is about a cell of the sheet named sheet (a finding without a sheet is). */
static bool same_sheet(const ps_finding *f, const char *sheet)
{
    return !f->sheet || !sheet || strcmp(f->sheet, sheet) == 0;
}

/* Where finding f of doc shows in the workbook: the sheet name and cell (false: nowhere).
 * sum_row: doc's row in its 汇总 part (SIZE_MAX: none); detail_rows[k]: the 明细 part k row of
 * doc's first table row. */
static bool finding_place(const ps_merge *m, const ps_document *doc, const mdoc *md, const ps_finding *f,
                          size_t sum_row, const size_t *detail_rows, const char **sheet, uint32_t *row,
                          uint16_t *col)
{
    uint32_t fr, fc;
    if (!f->cell || !ps_cell_ref_parse(f->cell, &fr, &fc))
        return false;
    if (sum_row != SIZE_MAX && md->sum >= 0) {
        const summary *s = &m->sums[md->sum];
        const char *keys[] = {"unit_name", "year"};
        for (size_t c = 0; c < 2 + s->ncols; c++) {
            uint32_t r, cc;
            const char *vsheet;
            if (c < 2) {
                merge_col k = {.key = keys[c]};
                sum_value(doc, &k, &r, &cc, &vsheet);
            } else {
                sum_value(doc, &s->cols[c - 2], &r, &cc, &vsheet);
            }
            if (r == fr && cc == fc && same_sheet(f, vsheet) &&
                (*sheet = part_locate(m, &s->p, sum_row, row))) {
                *col = (uint16_t)c;
                return true;
            }
        }
    }
    for (size_t k = 0; k < m->ndetails; k++) {
        const detail *d = &m->details[k];
        const ps_table *t = in_detail(m, md, d) ? ps_document_table(doc, d->table) : NULL;
        for (size_t r = 0; t && r < ps_table_row_count(t); r++)
            for (size_t c = 0; c < d->ncols; c++) {
                const ps_value *v = ps_table_get(t, r, d->cols[c].key);
                if (v && v->row == fr && v->col == fc && same_sheet(f, ps_document_value_sheet(doc, v)) &&
                    (*sheet = part_locate(m, &d->p, detail_rows[k] + r, row))) {
                    *col = (uint16_t)(2 + c);
                    return true;
                }
            }
    }
    return false;
}

static void write_scalar(ps_merge *m, lxw_worksheet *ws, uint32_t r, uint16_t c, const ps_scalar *s,
                         wr_kind kind)
{
    if (s->kind == PS_SCALAR_NUMBER && isfinite(s->number))
        note(m, worksheet_write_number(ws, r, c, s->number, ps_wr_format(&m->fm, kind, 0)));
    else if (s->kind == PS_SCALAR_TEXT && s->text)
        note(m, ps_wr_write_string(ws, r, c, s->text, ps_wr_format(&m->fm, WR_K_TEXT, 0)));
    else
        note(m, worksheet_write_blank(ws, r, c, ps_wr_format(&m->fm, WR_K_TEXT, 0)));
}

/* The kind of the value of doc at finding f's cell, for 期望值/实际值. */
static wr_kind finding_kind(const ps_document *doc, const ps_finding *f)
{
    uint32_t fr, fc;
    if (!f->cell || !ps_cell_ref_parse(f->cell, &fr, &fc))
        return WR_K_NUMBER;
    for (size_t i = 0; i < ps_document_value_count(doc); i++) {
        const ps_value *v = ps_document_value_at(doc, i);
        if (v->row == fr && v->col == fc) {
            wr_kind k = ps_wr_kind_of(v->type);
            return k == WR_K_TEXT || k == WR_K_DATE ? WR_K_NUMBER : k;
        }
    }
    for (size_t t = 0; t < ps_document_table_count(doc); t++) {
        const ps_table *tb = ps_document_table_at(doc, t);
        for (size_t r = 0; r < ps_table_row_count(tb); r++)
            for (size_t c = 0; c < ps_table_column_count(tb); c++) {
                const ps_value *v = ps_table_get(tb, r, ps_table_column(tb, c));
                if (v && v->row == fr && v->col == fc) {
                    wr_kind k = ps_wr_kind_of(v->type);
                    return k == WR_K_TEXT || k == WR_K_DATE ? WR_K_NUMBER : k;
                }
            }
    }
    return WR_K_NUMBER;
}

static void write_finding_row(ps_merge *m, const ps_finding *f, const ps_document *doc, const char *file,
                              const char *place_sheet, uint32_t place_row, uint16_t place_col, wr_kind kind)
{
    part *p = &m->findings;
    lxw_worksheet *ws;
    uint32_t r = part_row(m, p, &ws);
    if (r == UINT32_MAX)
        return;
    lxw_format *text = ps_wr_format(&m->fm, WR_K_TEXT, 0);
    unsigned lines = ps_wr_text_lines(f->message, FINDING_WIDTHS[7]), n;
    if ((n = ps_wr_text_lines(ps_document_unit(doc), FINDING_WIDTHS[0])) > lines)
        lines = n;
    if ((n = ps_wr_text_lines(f->file && *f->file ? f->file : file, FINDING_WIDTHS[10])) > lines)
        lines = n;
    if (lines > 1)
        worksheet_set_row(ws, r, ps_wr_row_height(lines), NULL);
    note(m, ps_wr_write_value(ws, r, 0, ps_document_get(doc, "unit_name"), PS_TYPE_TEXT, &m->fm, 0));
    note(m, ps_wr_write_value(ws, r, 1, ps_document_get(doc, "year"), PS_TYPE_YEAR, &m->fm, 0));
    note(m, ps_wr_write_string(ws, r, 2, f->sheet ? f->sheet : ps_document_sheet(doc), text));
    note(m, ps_wr_write_string(ws, r, 3, f->cell ? f->cell : "", text));
    if (place_sheet) {
        char url[2 * WRITER_SHEET_BYTES + 64], shown[WRITER_SHEET_BYTES + 48], a1[20];
        internal_link(place_sheet, place_row, place_col, url, sizeof url);
        snprintf(shown, sizeof shown, "%s!%s", place_sheet, ps_cell_ref(place_row, place_col, a1, sizeof a1));
        if (p->links < MAX_LINKS) {
            note(m, worksheet_write_url_opt(ws, r, 4, url, ps_wr_format(&m->fm, WR_K_LINK, 0), shown,
                                            "转到该单元格"));
            p->links++;
        } else {
            note(m, ps_wr_write_string(ws, r, 4, shown, text));
        }
    } else {
        note(m, worksheet_write_blank(ws, r, 4, text));
    }
    note(m, ps_wr_write_string(ws, r, 5, ps_wr_severity_label(f->severity),
                               ps_wr_format(&m->fm, WR_K_TEXT, (int)f->severity + 1)));
    note(m, ps_wr_write_string(ws, r, 6, f->rule, text));
    note(m, ps_wr_write_string(ws, r, 7, f->message, text));
    write_scalar(m, ws, r, 8, &f->expected, kind);
    write_scalar(m, ws, r, 9, &f->actual, kind);
    note(m, ps_wr_write_string(ws, r, 10, f->file && *f->file ? f->file : file, text));
}

static void prepare_findings(ps_merge *m)
{
    part *p = &m->findings;
    p->head = 1;
    p->ncols = NFINDING_HEADS;
    p->write_head = findings_head;
    size_t rows = 0;
    for (size_t i = 0; i < m->ndocs; i++)
        rows += m->docs[i].winner != NO_DOC ? 1 : m->docs[i].nfind;
    part_open(m, p, rows);
}

/* doc's rows of 校验结果: its findings, each linked to where it shows (sum_row: doc's row
 * in its 汇总 part; detail_at[k]: the row of its first table row in 明细 part k), or, for a
 * duplicate left out, one row saying so. */
static void finding_rows(ps_merge *m, const ps_document *doc, size_t i, size_t sum_row,
                         const size_t *detail_at)
{
    const mdoc *md = &m->docs[i];
    const char *file = m->fl[md->file].path;
    if (md->winner != NO_DOC) {
        const mdoc *w = &m->docs[md->winner];
        char why[128], msg[2048];
        duplicate_reason(m, i, why, sizeof why);
        const ps_findings *fl = ps_document_findings_const(doc);
        snprintf(msg, sizeof msg,
                 "重复：%s %d 年的%s另有 %s（工作表「%s」）；%s，采用该份计入汇总，本份未计入（其 %zu "
                 "条校验结果未列出）",
                 ps_document_unit(doc), ps_document_year(doc),
                 m->sums[md->sum].layout->sheet ? m->sums[md->sum].layout->sheet : ps_document_template(doc),
                 m->fl[w->file].path, ps_document_sheet(doc), why, fl ? ps_findings_count(fl) : 0);
        ps_wr_utf8_trim_tail(msg);
        ps_finding dup = {.rule = "merge.duplicate",
                          .severity = PS_SEV_WARNING,
                          .file = (char *)file,
                          .sheet = (char *)ps_document_sheet(doc),
                          .message = msg};
        write_finding_row(m, &dup, doc, file, NULL, 0, 0, WR_K_NUMBER);
        return;
    }
    const ps_findings *fl = ps_document_findings_const(doc);
    for (size_t k = 0; fl && k < ps_findings_count(fl); k++) {
        const ps_finding *f = ps_findings_at(fl, k);
        const char *sheet = NULL;
        uint32_t row = 0;
        uint16_t col = 0;
        if (!finding_place(m, doc, md, f, sum_row, detail_at, &sheet, &row, &col))
            sheet = NULL;
        write_finding_row(m, f, doc, file, sheet, row, col, finding_kind(doc, f));
    }
}

/* Every document, once, in the unit order: its 汇总 row, its 明细 rows and its 校验结果 rows,
 * each into its part laid out beforehand. */
static void write_documents(ps_merge *m, const uint32_t *order)
{
    size_t *sum_rows = calloc(m->nsums ? m->nsums : 1, sizeof *sum_rows);
    size_t *detail_at = calloc(m->ndetails ? m->ndetails : 1, sizeof *detail_at);
    if (!sum_rows || !detail_at) {
        free(sum_rows);
        free(detail_at);
        m->nomem = true;
        return;
    }
    for (size_t i = 0; i < m->ndocs && !m->nomem && !m->failed; i++) {
        const mdoc *md = &m->docs[order[i]];
        ps_document *doc = load_doc(m, order[i]);
        if (!doc)
            break;
        bool summed = md->winner == NO_DOC && md->sum >= 0;
        if (summed)
            summary_row(m, &m->sums[md->sum], doc, md);
        for (size_t k = 0; k < m->ndetails; k++)
            if (in_detail(m, md, &m->details[k]))
                detail_rows(m, &m->details[k], doc, md);
        finding_rows(m, doc, order[i], summed ? sum_rows[md->sum] : SIZE_MAX, detail_at);
        if (summed)
            sum_rows[md->sum]++;
        for (size_t k = 0; k < m->ndetails; k++)
            if (in_detail(m, md, &m->details[k]))
                detail_at[k] += m->drows[order[i] * m->ndetails + k];
        ps_document_free(doc);
    }
    free(sum_rows);
    free(detail_at);
}

/* ---- close: 文件 ---- */

static const char *const FILE_HEADS[] = {"文件", "状态", "错误代码", "错误信息", "文档数",
                                         "错误", "警告", "提示",     "说明"};
#define NFILE_HEADS 9
static const double FILE_WIDTHS[NFILE_HEADS] = {40, 10, 16, 50, 7, 6, 6, 6, 50};

static void files_head(ps_merge *m, part *p, lxw_worksheet *ws, size_t index)
{
    (void)p;
    (void)index;
    note(m, ps_wr_write_string(
                ws, 0, 0,
                "同一单位、年度、模板有多份时只有一份计入汇总：填报时间较晚的一份；填报时间相同或未填时，"
                "取文件列表（按路径排序）中靠后的文件。",
                ps_wr_format(&m->fm, WR_K_NOTE, 0)));
    write_header_row(m, ws, 1, FILE_HEADS, NFILE_HEADS, NULL, 0, NULL);
    worksheet_freeze_panes(ws, 2, 1);
    print_setup(ws, 1, 0);
}

static void write_files(ps_merge *m)
{
    part *p = &m->files;
    p->head = 2;
    p->ncols = NFILE_HEADS;
    p->write_head = files_head;
    lxw_format *text = ps_wr_format(&m->fm, WR_K_TEXT, 0), *num = ps_wr_format(&m->fm, WR_K_INT, 0);
    /* how many duplicates each summed document replaced */
    uint32_t *lost_to = m->duplicates ? calloc(m->ndocs, sizeof *lost_to) : NULL;
    for (size_t j = 0; lost_to && j < m->ndocs; j++)
        if (m->docs[j].winner != NO_DOC)
            lost_to[m->docs[j].winner]++;
    if (m->duplicates && !lost_to) {
        m->nomem = true;
        return;
    }
    for (size_t i = 0; i < m->nfiles && !m->nomem && !m->failed; i++) {
        const mfile *f = &m->fl[i];
        lxw_worksheet *ws;
        uint32_t r = part_row(m, p, &ws);
        if (r == UINT32_MAX)
            break;
        bool any = f->counts[0] + f->counts[1] + f->counts[2] > 0;
        const char *st = f->status != PS_OK ? "无法处理" : any ? "有校验结果" : "正常";
        int sev = f->status != PS_OK || f->counts[PS_SEV_ERROR] ? 3 : f->counts[PS_SEV_WARNING] ? 2 : 0;
        note(m, ps_wr_write_string(ws, r, 0, f->path, text));
        note(m, ps_wr_write_string(ws, r, 1, st, ps_wr_format(&m->fm, WR_K_TEXT, sev)));
        note(m, ps_wr_write_string(ws, r, 2, f->status != PS_OK ? ps_error_code_name(f->status) : "", text));
        note(m, ps_wr_write_string(ws, r, 3, f->error ? f->error : "", text));
        note(m, worksheet_write_number(ws, r, 4, (double)f->ndocs, num));
        for (int k = 0; k < 3; k++)
            note(m, worksheet_write_number(ws, r, (uint16_t)(5 + k), (double)f->counts[2 - k], num));
        /* duplicates: which document of this file was left out for which, or summed in place
         * of which */
        char msg[2048] = "";
        size_t o = 0;
        for (uint32_t k = 0; k < f->ndocs && o + 1 < sizeof msg; k++) {
            size_t di = f->first_doc + k;
            const mdoc *d = &m->docs[di];
            if (d->winner != NO_DOC) {
                char why[128];
                duplicate_reason(m, di, why, sizeof why);
                o +=
                    (size_t)snprintf(msg + o, sizeof msg - o, "%s%s未计入汇总：采用 %s（%s）", o ? "；" : "",
                                     m->sums[d->sum].layout->sheet, m->fl[m->docs[d->winner].file].path, why);
            } else {
                size_t lost = lost_to ? lost_to[di] : 0;
                if (lost)
                    o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s计入汇总（另有 %zu 份重复未计入）",
                                          o ? "；" : "", m->sums[d->sum].layout->sheet, lost);
            }
        }
        ps_wr_utf8_trim_tail(msg);
        unsigned lines = ps_wr_text_lines(f->path, FILE_WIDTHS[0]), n;
        if ((n = ps_wr_text_lines(f->error, FILE_WIDTHS[3])) > lines)
            lines = n;
        if ((n = ps_wr_text_lines(msg, FILE_WIDTHS[8])) > lines)
            lines = n;
        if (lines > 1)
            worksheet_set_row(ws, r, ps_wr_row_height(lines), NULL);
        note(m, ps_wr_write_string(ws, r, 8, msg, msg[0] ? ps_wr_format(&m->fm, WR_K_TEXT, 2) : text));
    }
    free(lost_to);
    if (p->nsheets == 0 && !m->nomem && !m->failed && !part_sheet(m, p))
        m->nomem = true;
    part_finish(m, p, FILE_WIDTHS);
}

/* ---- close ---- */

static void spread_text(const ps_merge *m, const part *p, char *buf, size_t size)
{
    size_t o = strlen(buf);
    if (p->nsheets > 1 && o + 1 < size) {
        snprintf(buf + o, size - o, "%s%s %zu 张工作表（%zu 行）", o ? "；" : "", p->base, p->nsheets,
                 p->rows);
        ps_wr_utf8_trim_tail(buf);
    }
    o = strlen(buf);
    if (p->notes_dropped && o + 1 < size) {
        snprintf(buf + o, size - o, "%s%s 有 %zu 个标色单元格超过批注上限，只标色（说明见校验结果）",
                 o ? "；" : "", p->base, p->notes_dropped);
        ps_wr_utf8_trim_tail(buf);
    }
    (void)m;
}

ps_status ps_merge_close_spread(ps_merge *m, char *spread, size_t size, ps_error *err)
{
    if (spread && size)
        spread[0] = '\0';
    if (!m)
        return ps_error_set(err, PS_ERR_USAGE, NULL, "ps_merge_close: 没有打开的汇总");
    uint32_t *order = malloc((m->ndocs ? m->ndocs : 1) * sizeof *order);
    if (!order) {
        ps_merge_abort(m);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    resolve_duplicates(m, order);
    /* every sheet laid out in the workbook's order, then filled in one pass */
    for (size_t i = 0; i < m->nsums && !m->nomem && !m->failed; i++)
        prepare_summary(m, &m->sums[i]);
    for (size_t i = 0; i < m->ndetails && !m->nomem && !m->failed; i++)
        prepare_detail(m, &m->details[i]);
    if (!m->nomem && !m->failed)
        prepare_findings(m);
    if (!m->nomem && !m->failed)
        write_documents(m, order);
    for (size_t i = 0; i < m->nsums && !m->nomem && !m->failed; i++)
        if (m->sums[i].p.nsheets)
            part_finish(m, &m->sums[i].p, m->sums[i].w);
    for (size_t i = 0; i < m->ndetails && !m->nomem && !m->failed; i++)
        if (m->details[i].p.nsheets)
            part_finish(m, &m->details[i].p, m->details[i].w);
    if (!m->nomem && !m->failed)
        part_finish(m, &m->findings, FINDING_WIDTHS);
    if (!m->nomem && !m->failed)
        write_files(m);
    free(order);
    if (m->nomem || m->failed) {
        ps_status st =
            m->nomem ? ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足")
                     : ps_error_set(err, PS_ERR_IO, m->out_path, "写入汇总失败：%s", lxw_strerror(m->failed));
        ps_merge_abort(m);
        return st;
    }
    /* the first 汇总 with units opens */
    lxw_worksheet *active = m->files.sheets[0];
    for (size_t i = m->nsums; i-- > 0;)
        if (m->sums[i].p.nsheets)
            active = m->sums[i].p.sheets[0];
    worksheet_activate(active);
    if (spread && size) {
        for (size_t i = 0; i < m->nsums; i++)
            spread_text(m, &m->sums[i].p, spread, size);
        for (size_t i = 0; i < m->ndetails; i++)
            spread_text(m, &m->details[i].p, spread, size);
        spread_text(m, &m->findings, spread, size);
        spread_text(m, &m->files, spread, size);
    }
    ps_status st = ps_wr_workbook_commit(m->wb, m->tmp, m->out_path, err);
    m->wb = NULL;
    merge_free(m);
    return st;
}

ps_status ps_merge_close(ps_merge *m, ps_error *err)
{
    return ps_merge_close_spread(m, NULL, 0, err);
}

void ps_merge_abort(ps_merge *m)
{
    if (!m)
        return;
    if (m->wb) {
        lxw_workbook_free(m->wb);
        unlink(m->tmp);
    }
    merge_free(m);
}

size_t ps_merge_unit_count(const ps_merge *m)
{
    return m ? m->ndocs - m->duplicates : 0;
}
size_t ps_merge_duplicate_count(const ps_merge *m)
{
    return m ? m->duplicates : 0;
}
