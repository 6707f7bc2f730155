/* merge.c - the consolidated workbook of a batch; see merge.h. Every sheet is created at
 * ps_merge_open and written row by row as files come (constant_memory mode flushes each row), so
 * only the totals, the duplicate keys and a few counters live in memory. */
#include "perfsheet/merge.h"

#include "perfsheet/writer.h"

#include "writer_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ROW_LIMIT (LXW_ROW_MAX - 2) /* leaves the last row for a totals row or a note */

typedef struct merge_col {
    const char *key, *label; /* borrowed from the mapping */
    ps_field_type type;
    bool summed;
    double total;
} merge_col;

typedef struct merge_sheet {
    lxw_worksheet *ws;
    char name[WRITER_SHEET_BYTES + 8];
    uint32_t row; /* next row to write */
    bool truncated;
} merge_sheet;

typedef struct summary { /* 汇总 of one template */
    const ps_mapping *m;
    wr_layout *layout; /* owns: labels and names point into it */
    merge_sheet s;
    merge_col *cols; /* after the three fixed columns 文件, 填报单位, 年度 */
    size_t ncols;
} summary;

typedef struct detail { /* 明细 of one table name */
    const char *table;
    const char *title; /* the layout's detail: name, or NULL */
    merge_sheet s;
    merge_col *cols; /* after 填报单位, 年度 */
    size_t ncols;
} detail;

struct ps_merge {
    const ps_mapping_set *set;
    char *out_path;
    char tmp[PATH_MAX + 128];
    lxw_workbook *wb;
    wr_formats fm;
    summary *sums;
    size_t nsums;
    detail *details;
    size_t ndetails;
    merge_sheet findings, files;
    /* unit + year + template of every summed document, and the file that brought it */
    struct seen_entry {
        char *key, *file;
    } * seen;
    size_t seen_n, seen_cap;
    size_t units, duplicates;
    lxw_error failed; /* the first write error */
};

static const char *const FIXED_SUM_HEADS[] = {"文件", "填报单位", "年度"};
#define FIXED_SUM 3
static const char *const FIXED_DETAIL_HEADS[] = {"填报单位", "年度"};
#define FIXED_DETAIL 2

/* ---- small helpers ---- */

static void note(ps_merge *m, lxw_error e)
{
    if (e != LXW_NO_ERROR && m->failed == LXW_NO_ERROR)
        m->failed = e;
}

static bool is_summed(ps_field_type t)
{
    return t == PS_TYPE_MONEY || t == PS_TYPE_NUMBER || t == PS_TYPE_INT;
}

static bool name_taken(const ps_merge *m, const char *name, bool fixed_ok)
{
    for (size_t i = 0; i < m->nsums; i++)
        if (m->sums[i].s.ws && strcasecmp(m->sums[i].s.name, name) == 0)
            return true;
    for (size_t i = 0; i < m->ndetails; i++)
        if (m->details[i].s.ws && strcasecmp(m->details[i].s.name, name) == 0)
            return true;
    static const char *const fixed[] = {"校验结果", "文件"};
    for (size_t i = 0; i < 2 && !fixed_ok; i++)
        if (strcmp(fixed[i], name) == 0)
            return true;
    return false;
}

/* Adds a sheet named after want (made valid and unique; 校验结果 and 文件 are kept for the
 * sheets of that name, created with fixed_ok). */
static bool add_sheet(ps_merge *m, merge_sheet *s, const char *want, const char *alt, bool fixed_ok)
{
    ps_writer_sheet_name(want, s->name, sizeof s->name);
    if (name_taken(m, s->name, fixed_ok) && alt)
        ps_writer_sheet_name(alt, s->name, sizeof s->name);
    for (int i = 2; name_taken(m, s->name, fixed_ok) && i < 1000; i++) {
        char buf[WRITER_SHEET_BYTES + 16], base[WRITER_SHEET_BYTES + 8];
        ps_writer_sheet_name(want, base, sizeof base);
        /* keep room for "-NNN" within 31 characters: cut the base to 26 characters */
        size_t chars = 0, o = 0;
        while (base[o] && chars < 26) {
            o++;
            while (((unsigned char)base[o] & 0xC0) == 0x80)
                o++;
            chars++;
        }
        base[o] = '\0';
        snprintf(buf, sizeof buf, "%s-%d", base, i);
        ps_writer_sheet_name(buf, s->name, sizeof s->name);
    }
    s->ws = workbook_add_worksheet(m->wb, s->name);
    return s->ws != NULL;
}

static void write_heads(ps_merge *m, merge_sheet *s, const char *const *fixed, size_t nfixed,
                        const merge_col *cols, size_t ncols, const char *const *tail, size_t ntail)
{
    lxw_format *h = ps_wr_format(&m->fm, WR_K_HEADER, 0);
    uint16_t c = 0;
    for (size_t i = 0; i < nfixed; i++, c++)
        note(m, ps_wr_write_string(s->ws, 0, c, fixed[i], h));
    for (size_t i = 0; i < ncols && c < LXW_COL_MAX - 1; i++, c++)
        note(m, ps_wr_write_string(s->ws, 0, c, cols[i].label, h));
    for (size_t i = 0; i < ntail && c < LXW_COL_MAX - 1; i++, c++)
        note(m, ps_wr_write_string(s->ws, 0, c, tail[i], h));
    s->row = 1;
}

static bool push_col(merge_col **cols, size_t *n, const char *key, const char *label, ps_field_type t)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*cols)[i].key, key) == 0)
            return true;
    merge_col *p = realloc(*cols, (*n + 1) * sizeof *p);
    if (!p)
        return false;
    *cols = p;
    p[*n] = (merge_col){key, label && label[0] ? label : key, t, is_summed(t), 0};
    (*n)++;
    return true;
}

/* ---- open ---- */

static ps_status build_sheets(ps_merge *m, ps_error *err)
{
    size_t nm = ps_mapping_set_count(m->set);
    m->sums = calloc(nm ? nm : 1, sizeof *m->sums);
    if (!m->sums)
        return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
    /* 汇总 sheets first, one per detectable mapping with plain fields */
    for (size_t i = 0; i < nm; i++) {
        const ps_mapping *mp = ps_mapping_set_at(m->set, i);
        if (!mp || !ps_mapping_detectable(mp))
            continue;
        summary *s = &m->sums[m->nsums];
        s->m = mp;
        ps_status st = ps_wr_layout_build(mp, &s->layout, err);
        m->nsums++;
        if (st != PS_OK)
            return st;
        size_t nf = ps_mapping_field_count(mp);
        for (size_t f = 0; f < nf; f++) {
            const ps_field_spec *fs = ps_mapping_field(mp, f);
            if (!fs || !fs->key || fs->table || !strcmp(fs->key, "unit_name") || !strcmp(fs->key, "year"))
                continue;
            if (!push_col(&s->cols, &s->ncols, fs->key, ps_wr_field_label(s->layout, fs->key), fs->type))
                return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
        }
        char want[256], alt[256];
        snprintf(want, sizeof want, "汇总-%s", s->layout->sheet);
        snprintf(alt, sizeof alt, "汇总-%s", ps_mapping_id(mp));
        bool ok = add_sheet(m, &s->s, want, alt, false);
        if (!ok)
            return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "无法创建工作表 %s", want);
        write_heads(m, &s->s, FIXED_SUM_HEADS, FIXED_SUM, s->cols, s->ncols, NULL, 0);
        worksheet_freeze_panes(s->s.ws, 1, FIXED_SUM);
        worksheet_set_column(s->s.ws, 0, 0, 28, NULL);
        worksheet_set_column(s->s.ws, 1, 1, 26, NULL);
        worksheet_set_column(s->s.ws, 2, (lxw_col_t)(FIXED_SUM + s->ncols), 12, NULL);
    }
    /* 明细 sheets: one per table a layout names (detail:, default 明细-<table>), columns the
     * union over mappings in layout order */
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
            }
            for (size_t c = 0; c < blk->nrows; c++)
                if (!push_col(&d->cols, &d->ncols, blk->rows[c].key, blk->rows[c].label,
                              ps_wr_type(l, blk->rows[c].key, blk->table, NULL)))
                    return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "内存不足");
        }
    }
    static const char *const detail_tail[] = {"文件"};
    for (size_t k = 0; k < m->ndetails; k++) {
        detail *d = &m->details[k];
        char buf[128];
        if (d->title)
            snprintf(buf, sizeof buf, "%s", d->title);
        else
            snprintf(buf, sizeof buf, "明细-%s", d->table);
        if (!add_sheet(m, &d->s, buf, NULL, false))
            return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "无法创建明细工作表");
        write_heads(m, &d->s, FIXED_DETAIL_HEADS, FIXED_DETAIL, d->cols, d->ncols, detail_tail, 1);
        worksheet_freeze_panes(d->s.ws, 1, FIXED_DETAIL);
        worksheet_set_column(d->s.ws, 0, 0, 26, NULL);
        worksheet_set_column(d->s.ws, 1, (lxw_col_t)(FIXED_DETAIL + d->ncols - 1), 14, NULL);
        worksheet_set_column(d->s.ws, (lxw_col_t)(FIXED_DETAIL + d->ncols),
                             (lxw_col_t)(FIXED_DETAIL + d->ncols), 28, NULL);
    }
    static const char *const fheads[] = {"文件",     "填报单位", "工作表", "单元格", "规则",
                                         "严重程度", "说明",     "期望值", "实际值"};
    static const double fwidths[] = {28, 26, 14, 8, 22, 10, 70, 12, 12};
    if (!add_sheet(m, &m->findings, "校验结果", NULL, true))
        return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "无法创建工作表 校验结果");
    write_heads(m, &m->findings, fheads, 9, NULL, 0, NULL, 0);
    for (uint16_t c = 0; c < 9; c++)
        worksheet_set_column(m->findings.ws, c, c, fwidths[c], NULL);
    worksheet_freeze_panes(m->findings.ws, 1, 0);
    static const char *const files_heads[] = {"文件",   "状态", "错误代码", "错误信息",
                                              "文档数", "错误", "警告",     "提示"};
    static const double files_widths[] = {40, 10, 18, 60, 8, 8, 8, 8};
    if (!add_sheet(m, &m->files, "文件", NULL, true))
        return ps_error_set(err, PS_ERR_NOMEM, m->out_path, "无法创建工作表 文件");
    write_heads(m, &m->files, files_heads, 8, NULL, 0, NULL, 0);
    for (uint16_t c = 0; c < 8; c++)
        worksheet_set_column(m->files.ws, c, c, files_widths[c], NULL);
    worksheet_freeze_panes(m->files.ws, 1, 0);
    return m->failed ? ps_error_set(err, PS_ERR_IO, m->out_path, "写入表头失败：%s", lxw_strerror(m->failed))
                     : PS_OK;
}

static void merge_free(ps_merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nsums; i++) {
        free(m->sums[i].cols);
        ps_wr_layout_free(m->sums[i].layout);
    }
    free(m->sums);
    for (size_t i = 0; i < m->ndetails; i++)
        free(m->details[i].cols);
    free(m->details);
    for (size_t i = 0; i < m->seen_n; i++) {
        free(m->seen[i].key);
        free(m->seen[i].file);
    }
    free(m->seen);
    free(m->out_path);
    free(m);
}

ps_status ps_merge_open(const ps_mapping_set *set, const char *out_path, ps_error *err, ps_merge **out)
{
    if (!out_path || !*out_path)
        return ps_error_set(err, PS_ERR_USAGE, NULL, "merge: 缺少输出文件");
    ps_merge *m = calloc(1, sizeof *m);
    if (!m || !(m->out_path = strdup(out_path))) {
        free(m);
        return ps_error_set(err, PS_ERR_NOMEM, out_path, "内存不足");
    }
    m->set = set;
    ps_wr_temp_path(out_path, m->tmp, sizeof m->tmp);
    m->wb = ps_wr_workbook_new(m->tmp, true, "汇总", err);
    if (!m->wb) {
        ps_status st = err ? err->code : PS_ERR_IO;
        merge_free(m);
        return st;
    }
    m->fm.wb = m->wb;
    ps_status st = build_sheets(m, err);
    if (st != PS_OK) {
        ps_merge_abort(m);
        return st;
    }
    *out = m;
    return PS_OK;
}

/* ---- rows ---- */

static uint32_t take_row(merge_sheet *s)
{
    if (s->row >= ROW_LIMIT) {
        s->truncated = true;
        return UINT32_MAX;
    }
    return s->row++;
}

/* The seen-list index of key, or where to add it (*found false). Linear probing over a hash
 * table would be faster; a sorted array with binary search keeps it simple and O(log n). */
static size_t seen_find(const ps_merge *m, const char *key, bool *found)
{
    size_t lo = 0, hi = m->seen_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->seen[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* false when doc duplicates an earlier document (then *first is the earlier file). */
static bool claim(ps_merge *m, const ps_document *doc, const char *file, const char **first, bool *nomem)
{
    const char *unit = ps_document_unit(doc);
    int year = ps_document_year(doc);
    if (!unit || !*unit || !year)
        return true; /* nothing to compare by */
    size_t len = strlen(unit) + strlen(ps_document_template(doc)) + 32;
    char *key = malloc(len);
    if (!key) {
        *nomem = true;
        return true;
    }
    snprintf(key, len, "%s\x1f%d\x1f%s", ps_document_template(doc), year, unit);
    bool found;
    size_t at = seen_find(m, key, &found);
    if (found) {
        *first = m->seen[at].file;
        free(key);
        return false;
    }
    if (m->seen_n == m->seen_cap) {
        size_t cap = m->seen_cap ? m->seen_cap * 2 : 256;
        void *p = realloc(m->seen, cap * sizeof *m->seen);
        if (!p) {
            free(key);
            *nomem = true;
            return true;
        }
        m->seen = p;
        m->seen_cap = cap;
    }
    char *f = strdup(file);
    if (!f) {
        free(key);
        *nomem = true;
        return true;
    }
    memmove(&m->seen[at + 1], &m->seen[at], (m->seen_n - at) * sizeof *m->seen);
    m->seen[at].key = key;
    m->seen[at].file = f;
    m->seen_n++;
    return true;
}

static void write_summary_row(ps_merge *m, summary *s, const ps_document *doc, const char *file)
{
    uint32_t r = take_row(&s->s);
    if (r == UINT32_MAX)
        return;
    lxw_worksheet *ws = s->s.ws;
    const ps_findings *fl = ps_document_findings_const(doc);
    const char *sheet = ps_document_sheet(doc);
    lxw_format *text = ps_wr_format(&m->fm, WR_K_TEXT, 0);
    note(m, ps_wr_write_string(ws, r, 0, file, text));
    const ps_value *unit = ps_document_get(doc, "unit_name");
    const ps_value *year = ps_document_get(doc, "year");
    int sev =
        unit && unit->row != PS_NO_CELL ? ps_wr_cell_severity(fl, sheet, unit->row, unit->col, NULL, 0) : 0;
    note(m, ps_wr_write_value(ws, r, 1, unit, PS_TYPE_TEXT, &m->fm, sev));
    sev = year && year->row != PS_NO_CELL ? ps_wr_cell_severity(fl, sheet, year->row, year->col, NULL, 0) : 0;
    note(m, ps_wr_write_value(ws, r, 2, year, PS_TYPE_YEAR, &m->fm, sev));
    for (size_t c = 0; c < s->ncols && FIXED_SUM + c < LXW_COL_MAX - 1; c++) {
        merge_col *col = &s->cols[c];
        const ps_value *v = ps_document_get(doc, col->key);
        if (!v)
            continue; /* blank stays blank: nothing to write in constant memory */
        sev = v->row != PS_NO_CELL ? ps_wr_cell_severity(fl, sheet, v->row, v->col, NULL, 0) : 0;
        note(m, ps_wr_write_value(ws, r, (uint16_t)(FIXED_SUM + c), v, col->type, &m->fm, sev));
        if (col->summed && v->has_number && isfinite(v->number))
            col->total += v->number;
    }
}

static void write_detail_rows(ps_merge *m, const ps_document *doc, const char *file)
{
    const ps_findings *fl = ps_document_findings_const(doc);
    const char *sheet = ps_document_sheet(doc);
    for (size_t k = 0; k < m->ndetails; k++) {
        detail *d = &m->details[k];
        const ps_table *t = ps_document_table(doc, d->table);
        size_t rows = t ? ps_table_row_count(t) : 0;
        for (size_t i = 0; i < rows; i++) {
            uint32_t r = take_row(&d->s);
            if (r == UINT32_MAX)
                break;
            lxw_worksheet *ws = d->s.ws;
            note(m, ps_wr_write_value(ws, r, 0, ps_document_get(doc, "unit_name"), PS_TYPE_TEXT, &m->fm, 0));
            note(m, ps_wr_write_value(ws, r, 1, ps_document_get(doc, "year"), PS_TYPE_YEAR, &m->fm, 0));
            size_t c = 0;
            for (; c < d->ncols && FIXED_DETAIL + c < LXW_COL_MAX - 2; c++) {
                const ps_value *v = ps_table_get(t, i, d->cols[c].key);
                if (!v)
                    continue;
                int sev = v->row != PS_NO_CELL ? ps_wr_cell_severity(fl, sheet, v->row, v->col, NULL, 0) : 0;
                note(m,
                     ps_wr_write_value(ws, r, (uint16_t)(FIXED_DETAIL + c), v, d->cols[c].type, &m->fm, sev));
            }
            note(m, ps_wr_write_string(ws, r, (uint16_t)(FIXED_DETAIL + c), file,
                                       ps_wr_format(&m->fm, WR_K_TEXT, 0)));
        }
    }
}

static void write_scalar(ps_merge *m, lxw_worksheet *ws, uint32_t r, uint16_t c, const ps_scalar *s)
{
    if (s->kind == PS_SCALAR_NUMBER)
        note(m, worksheet_write_number(ws, r, c, s->number, ps_wr_format(&m->fm, WR_K_NUMBER, 0)));
    else if (s->kind == PS_SCALAR_TEXT && s->text)
        note(m, ps_wr_write_string(ws, r, c, s->text, ps_wr_format(&m->fm, WR_K_TEXT, 0)));
}

static void write_finding(ps_merge *m, const ps_finding *f, const char *file, const char *unit)
{
    uint32_t r = take_row(&m->findings);
    if (r == UINT32_MAX)
        return;
    lxw_worksheet *ws = m->findings.ws;
    lxw_format *text = ps_wr_format(&m->fm, WR_K_TEXT, 0);
    note(m, ps_wr_write_string(ws, r, 0, f->file && *f->file ? f->file : file, text));
    note(m, ps_wr_write_string(ws, r, 1, unit ? unit : "", text));
    note(m, ps_wr_write_string(ws, r, 2, f->sheet ? f->sheet : "", text));
    note(m, ps_wr_write_string(ws, r, 3, f->cell ? f->cell : "", text));
    note(m, ps_wr_write_string(ws, r, 4, f->rule, text));
    note(m, ps_wr_write_string(ws, r, 5, ps_severity_name(f->severity),
                               ps_wr_format(&m->fm, WR_K_TEXT, (int)f->severity + 1)));
    note(m, ps_wr_write_string(ws, r, 6, f->message, text));
    write_scalar(m, ws, r, 7, &f->expected);
    write_scalar(m, ws, r, 8, &f->actual);
}

static summary *summary_of(ps_merge *m, const ps_document *doc)
{
    for (size_t i = 0; i < m->nsums; i++)
        if (strcmp(ps_mapping_id(m->sums[i].m), ps_document_template(doc)) == 0)
            return &m->sums[i];
    return NULL;
}

ps_status ps_merge_add_file(ps_merge *m, const char *file, ps_status status, const ps_error *file_err,
                            ps_document *const *docs, size_t ndocs)
{
    if (!m || !file)
        return PS_ERR_USAGE;
    size_t counts[3] = {0, 0, 0}; /* by severity */
    bool nomem = false;
    if (status == PS_OK) {
        for (size_t d = 0; d < ndocs; d++) {
            const ps_document *doc = docs[d];
            if (!doc)
                continue;
            const char *first = NULL;
            bool fresh = claim(m, doc, file, &first, &nomem);
            if (nomem)
                break;
            const ps_findings *fl = ps_document_findings_const(doc);
            for (size_t i = 0; fl && i < ps_findings_count(fl); i++) {
                const ps_finding *f = ps_findings_at(fl, i);
                write_finding(m, f, file, ps_document_unit(doc));
                if ((unsigned)f->severity < 3)
                    counts[f->severity]++;
            }
            if (!fresh) {
                char msg[1024];
                snprintf(msg, sizeof msg, "重复：%s %d 年的%s已由 %s 提供，本文件的这份未计入汇总",
                         ps_document_unit(doc), ps_document_year(doc), ps_document_template(doc), first);
                ps_finding dup = {.rule = "merge.duplicate",
                                  .severity = PS_SEV_WARNING,
                                  .file = (char *)file,
                                  .sheet = (char *)ps_document_sheet(doc),
                                  .message = msg};
                write_finding(m, &dup, file, ps_document_unit(doc));
                counts[PS_SEV_WARNING]++;
                m->duplicates++;
                continue;
            }
            summary *s = summary_of(m, doc);
            if (s)
                write_summary_row(m, s, doc, file);
            write_detail_rows(m, doc, file);
            m->units++;
        }
    }
    uint32_t r = take_row(&m->files);
    if (r != UINT32_MAX) {
        lxw_worksheet *ws = m->files.ws;
        lxw_format *text = ps_wr_format(&m->fm, WR_K_TEXT, 0), *num = ps_wr_format(&m->fm, WR_K_INT, 0);
        const char *st = status != PS_OK ? "error" : (counts[0] + counts[1] + counts[2]) ? "findings" : "ok";
        int sev = status != PS_OK ? 3 : counts[PS_SEV_ERROR] ? 3 : counts[PS_SEV_WARNING] ? 2 : 0;
        note(m, ps_wr_write_string(ws, r, 0, file, text));
        note(m, ps_wr_write_string(ws, r, 1, st, ps_wr_format(&m->fm, WR_K_TEXT, sev)));
        if (status != PS_OK) {
            note(m, ps_wr_write_string(ws, r, 2, ps_error_code_name(status), text));
            note(m, ps_wr_write_string(ws, r, 3, file_err && file_err->message[0] ? file_err->message : "",
                                       text));
        }
        note(m, worksheet_write_number(ws, r, 4, status == PS_OK ? (double)ndocs : 0, num));
        for (int k = 0; k < 3; k++)
            note(m, worksheet_write_number(ws, r, (uint16_t)(5 + k), (double)counts[2 - k], num));
    }
    if (nomem)
        return PS_ERR_NOMEM;
    return m->failed ? PS_ERR_IO : PS_OK;
}

/* ---- close ---- */

static void write_truncated(ps_merge *m, merge_sheet *s)
{
    if (s->truncated)
        note(m, ps_wr_write_string(s->ws, ROW_LIMIT, 0, "（已截断：超过 Excel 的行数上限）",
                                   ps_wr_format(&m->fm, WR_K_TOTAL, 3)));
}

static void write_totals(ps_merge *m, summary *s)
{
    lxw_worksheet *ws = s->s.ws;
    uint32_t last = s->s.row - 1; /* last data row */
    if (s->s.row <= 1) {
        return;
    }
    uint32_t r = s->s.row; /* ROW_LIMIT at most: the row kept free */
    note(m, ps_wr_write_string(ws, r, 0, "合计", ps_wr_format(&m->fm, WR_K_TOTAL, 0)));
    for (size_t c = 0; c < s->ncols && FIXED_SUM + c < LXW_COL_MAX - 1; c++) {
        const merge_col *col = &s->cols[c];
        if (!col->summed)
            continue;
        char a[16], b[16], f[48];
        uint16_t cc = (uint16_t)(FIXED_SUM + c);
        snprintf(f, sizeof f, "=SUM(%s:%s)", ps_cell_ref(1, cc, a, sizeof a),
                 ps_cell_ref(last, cc, b, sizeof b));
        note(m, worksheet_write_formula_num(ws, r, cc, f, ps_wr_format(&m->fm, ps_wr_kind_of(col->type), 0),
                                            isfinite(col->total) ? col->total : 0));
    }
    worksheet_autofilter(ws, 0, 0, last, (lxw_col_t)(FIXED_SUM + s->ncols - 1));
}

ps_status ps_merge_close(ps_merge *m, ps_error *err)
{
    if (!m)
        return ps_error_set(err, PS_ERR_USAGE, NULL, "ps_merge_close: 没有打开的汇总");
    if (m->failed) {
        ps_status st = ps_error_set(err, PS_ERR_IO, m->out_path, "写入汇总失败：%s", lxw_strerror(m->failed));
        ps_merge_abort(m);
        return st;
    }
    lxw_worksheet *active = NULL;
    for (size_t i = 0; i < m->nsums; i++) {
        summary *s = &m->sums[i];
        if (s->s.truncated)
            write_truncated(m, &s->s);
        else
            write_totals(m, s);
        if (s->s.row > 1 && !active)
            active = s->s.ws;
    }
    for (size_t i = 0; i < m->ndetails; i++)
        write_truncated(m, &m->details[i].s);
    write_truncated(m, &m->findings);
    write_truncated(m, &m->files);
    if (m->findings.row > 1)
        worksheet_autofilter(m->findings.ws, 0, 0, m->findings.row - 1, 8);
    /* Templates no file used stay out of sight; the first 汇总 with units opens. */
    for (size_t i = 0; i < m->nsums; i++)
        if (m->sums[i].s.row <= 1 && m->sums[i].s.ws != active)
            worksheet_hide(m->sums[i].s.ws);
    if (!active)
        active = m->files.ws;
    worksheet_activate(active);
    worksheet_set_first_sheet(active);
    ps_status st = PS_OK;
    if (m->failed) {
        st = ps_error_set(err, PS_ERR_IO, m->out_path, "写入汇总失败：%s", lxw_strerror(m->failed));
        ps_merge_abort(m);
        return st;
    }
    st = ps_wr_workbook_commit(m->wb, m->tmp, m->out_path, err);
    m->wb = NULL;
    merge_free(m);
    return st;
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
    return m ? m->units : 0;
}
size_t ps_merge_duplicate_count(const ps_merge *m)
{
    return m ? m->duplicates : 0;
}
