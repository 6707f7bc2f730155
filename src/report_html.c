/* report_html.c - the HTML review report; see report_html.h and docs/report.md.
 * Each file's section is rendered into a buffer and appended to an unlinked temporary file at
 * once (every MiB for a file with very many findings); the totals are counted on the way.
 * ps_report_close writes the page head, the totals and the filters, copies the sections after
 * them and adds the script, under a temporary name that is renamed over the output. Every
 * string that comes from an input (cell text, sheet and unit names, file paths, messages
 * quoting cells) goes through html_text. */
#include "perfsheet/report_html.h"

#include "perfsheet/report_json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The grid around a flagged cell: rows and columns either side, and how far the window may
 * grow to take in the finding's other cells. */
enum { GRID_ROWS_AROUND = 4, GRID_COLS_AROUND = 3, GRID_MAX_ROWS = 24, GRID_MAX_COLS = 12 };
enum { CELL_TEXT_CHARS = 200, MAX_CELLS_LISTED = 32 };

typedef struct rule_total {
    char *id;
    char *example; /* the first message, to say what the rule checks */
    ps_severity severity;
    size_t findings, files;
    size_t last_file; /* 1-based file number that last counted, so files count once */
} rule_total;

typedef struct template_total {
    const char *id; /* borrowed from the mapping set */
    size_t docs, docs_with_errors, by_sev[3];
} template_total;

struct ps_report {
    const ps_mapping_set *set;
    char *out_path;
    FILE *body; /* the sections so far (unlinked temporary file) */
    size_t files, files_bad, files_with_errors, docs, by_sev[3];
    size_t bad_by_code[PS_ERR_NOMEM + 1];
    template_total *templates; /* one per mapping of the set */
    size_t ntemplates;
    rule_total *rules;
    size_t nrules, rules_cap;
    bool oom, write_failed; /* while adding the current file */
    FILE *out;              /* the page, under the temporary name tmp next to out_path */
    char tmp[4200];
};

enum { SECTION_FLUSH_BYTES = 1 << 20 };

/* Moves what b holds to the sections file, so that a file with very many findings does not
 * hold its whole section in memory. Failures are remembered in r. */
static void flush_section(ps_report *r, ps_buf *b)
{
    if (b->oom)
        r->oom = true;
    else if (b->len && fwrite(b->data, 1, b->len, r->body) != b->len)
        r->write_failed = true;
    b->len = 0;
    b->oom = false;
}

static const char *severity_word(ps_severity s)
{
    switch (s) {
    case PS_SEV_ERROR: return "错误";
    case PS_SEV_WARNING: return "警告";
    default: return "提示";
    }
}

/* Why a file could not be processed, in words. */
static const char *failure_word(ps_status code)
{
    switch (code) {
    case PS_ERR_IO: return "无法读取";
    case PS_ERR_NOT_A_SPREADSHEET: return "不是电子表格";
    case PS_ERR_UNSUPPORTED: return "不支持的格式或超出限制";
    case PS_ERR_CORRUPT: return "文件已损坏";
    case PS_ERR_ENCRYPTED: return "有密码保护";
    case PS_ERR_NO_TEMPLATE: return "没有可识别的模板";
    case PS_ERR_NOMEM: return "内存不足";
    default: return "其他错误";
    }
}

/* ---- text ---- */

/* Length of a valid UTF-8 sequence at s (NUL-terminated), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* Appends s as HTML text, safe in element content and in quoted attribute values: & < > " '
 * escaped, invalid UTF-8 and control characters (other than tab and newline) as U+FFFD. At most
 * max_chars characters (0: no limit), then "…". NULL appends nothing. */
static void html_text(ps_buf *b, const char *s, size_t max_chars)
{
    if (!s)
        return;
    const unsigned char *u = (const unsigned char *)s, *run = u;
    size_t chars = 0;
    while (*u) {
        if (max_chars && chars == max_chars) {
            ps_buf_append(b, (const char *)run, (size_t)(u - run));
            ps_buf_puts(b, "…");
            return;
        }
        chars++;
        const char *rep = NULL;
        size_t n = 1;
        if (*u >= 0x80) {
            n = utf8_len(u);
            if (!n) {
                rep = "\xEF\xBF\xBD";
                n = 1;
            }
        } else if (*u == '&') {
            rep = "&amp;";
        } else if (*u == '<') {
            rep = "&lt;";
        } else if (*u == '>') {
            rep = "&gt;";
        } else if (*u == '"') {
            rep = "&quot;";
        } else if (*u == '\'') {
            rep = "&#39;";
        } else if ((*u < 0x20 && *u != '\t' && *u != '\n') || *u == 0x7F) {
            rep = "\xEF\xBF\xBD";
        }
        if (rep) {
            ps_buf_append(b, (const char *)run, (size_t)(u - run));
            ps_buf_puts(b, rep);
            u += n;
            run = u;
        } else {
            u += n;
        }
    }
    ps_buf_append(b, (const char *)run, (size_t)(u - run));
}

/* A number as Excel's General format shows it: integers whole, else up to 10 significant
 * digits without trailing zeros. */
static void general_number(char *buf, size_t size, double v)
{
    if (!isfinite(v))
        snprintf(buf, size, "#NUM!");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.10g", v);
}

/* The text a cell shows in the file: the number in its format, the text as typed. */
static void cell_shown(ps_buf *b, const ps_cell *c)
{
    char num[64];
    switch (c->type) {
    case PS_CELL_NUMBER:
        if (!ps_cell_display(c, num, sizeof num)) {
            if (c->format == PS_FMT_PERCENT) {
                general_number(num, sizeof num - 1, c->number * 100);
                strcat(num, "%");
            } else {
                general_number(num, sizeof num, c->number);
            }
        }
        ps_buf_puts(b, num);
        break;
    case PS_CELL_BOOL: ps_buf_puts(b, c->number != 0 ? "TRUE" : "FALSE"); break;
    case PS_CELL_BLANK: break;
    default: html_text(b, c->text, CELL_TEXT_CHARS); break;
    }
}

/* ---- grid excerpt ---- */

typedef struct cellref {
    uint32_t row, col;
} cellref;

typedef struct grid {
    const ps_sheet *sh;
    uint32_t r0, r1, c0, c1; /* the window, inclusive */
    bool label;              /* a label column shown apart, before a gap */
    uint32_t label_col;
    cellref hit;
    const cellref *related;
    size_t nrelated;
} grid;

static bool range_has(const ps_range *m, cellref c)
{
    return c.row >= m->first_row && c.row <= m->last_row && c.col >= m->first_col && c.col <= m->last_col;
}

static void column_letters(uint32_t col, char *buf, size_t size)
{
    ps_cell_ref(0, col, buf, size);
    buf[strcspn(buf, "0123456789")] = '\0';
}

static bool displayed_col(const grid *g, uint32_t col)
{
    return (col >= g->c0 && col <= g->c1) || (g->label && col == g->label_col);
}

/* One td for the cell at (row, col), spanning what its merged range covers inside columns
 * [from, to] of the window; nothing when (row, col) is covered by a td written before. A merged
 * range cut by the gap shows its text once, where its first column is. */
static void grid_cell(ps_buf *b, const grid *g, uint32_t row, uint32_t col, uint32_t from, uint32_t to)
{
    const ps_range *m = ps_sheet_merge_at(g->sh, row, col);
    uint32_t rowspan = 1, colspan = 1;
    if (m) {
        uint32_t top = m->first_row > g->r0 ? m->first_row : g->r0;
        uint32_t left = m->first_col > from ? m->first_col : from;
        if (row != top || col != left)
            return;
        rowspan = (m->last_row < g->r1 ? m->last_row : g->r1) - row + 1;
        colspan = (m->last_col < to ? m->last_col : to) - col + 1;
    }
    ps_range own = m ? *m : (ps_range){row, col, row, col};
    const ps_cell *c = m ? ps_sheet_cell(g->sh, m->first_row, m->first_col) : ps_sheet_cell(g->sh, row, col);
    const char *cls[4];
    int ncls = 0;
    if (range_has(&own, g->hit))
        cls[ncls++] = "h";
    else
        for (size_t k = 0; k < g->nrelated; k++)
            if (range_has(&own, g->related[k])) {
                cls[ncls++] = "r";
                break;
            }
    if (c && (c->type == PS_CELL_NUMBER || c->type == PS_CELL_DATE))
        cls[ncls++] = "n";
    if (c && c->formula)
        cls[ncls++] = "x";
    ps_buf_puts(b, "<td");
    if (rowspan > 1)
        ps_buf_printf(b, " rowspan=\"%u\"", rowspan);
    if (colspan > 1)
        ps_buf_printf(b, " colspan=\"%u\"", colspan);
    if (ncls) {
        ps_buf_puts(b, " class=\"");
        for (int k = 0; k < ncls; k++)
            ps_buf_printf(b, "%s%s", k ? " " : "", cls[k]);
        ps_buf_puts(b, "\"");
    }
    ps_buf_puts(b, ">");
    bool shown_before = m && m->first_col < from && displayed_col(g, m->first_col) && m->first_row >= g->r0;
    if (c && !shown_before)
        cell_shown(b, c);
}

/* The grid as a table; end tags of cells and rows are left out (HTML closes them): a big report
 * is a third smaller. */
static void grid_write(ps_buf *b, const grid *g)
{
    char letters[16];
    ps_buf_puts(b, "<table class=\"g\"><tr><th>");
    if (g->label) {
        column_letters(g->label_col, letters, sizeof letters);
        ps_buf_printf(b, "<th>%s<th class=\"gap\">…", letters);
    }
    for (uint32_t c = g->c0; c <= g->c1; c++) {
        column_letters(c, letters, sizeof letters);
        ps_buf_printf(b, "<th>%s", letters);
    }
    for (uint32_t r = g->r0; r <= g->r1; r++) {
        ps_buf_printf(b, "<tr><th>%u", r + 1);
        if (g->label) {
            grid_cell(b, g, r, g->label_col, g->label_col, g->label_col);
            ps_buf_puts(b, "<td class=\"gap\">");
        }
        for (uint32_t c = g->c0; c <= g->c1; c++)
            grid_cell(b, g, r, c, g->c0, g->c1);
    }
    ps_buf_puts(b, "</table>");
}

static const ps_sheet *find_sheet(const ps_workbook *wb, const char *name)
{
    for (size_t i = 0; wb && name && i < ps_workbook_sheet_count(wb); i++)
        if (!strcmp(ps_sheet_name(ps_workbook_sheet(wb, i)), name))
            return ps_workbook_sheet(wb, i);
    return NULL;
}

static bool text_at(const ps_sheet *sh, uint32_t row, uint32_t col)
{
    const ps_cell *c = ps_sheet_cell_shown(sh, row, col);
    return c && c->type == PS_CELL_TEXT && c->text && *c->text;
}

/* The grid of finding f: the flagged cell with GRID_*_AROUND rows and columns around it, grown
 * to take in the finding's other cells while the window stays within GRID_MAX_*. When no text on
 * the flagged cell's row, left of it, is in the window, the nearest such text (the row's label)
 * is shown too: apart, after a gap, when it is more than a column away. false when there is no
 * cell to show. */
static bool grid_plan(grid *g, const ps_workbook *wb, const ps_finding *f, cellref *related, size_t *nrelated)
{
    memset(g, 0, sizeof *g);
    *nrelated = 0;
    g->sh = find_sheet(wb, f->sheet);
    if (!g->sh || !f->cell || !ps_cell_ref_parse(f->cell, &g->hit.row, &g->hit.col))
        return false;
    uint32_t rows = ps_sheet_rows(g->sh), cols = ps_sheet_cols(g->sh);
    uint32_t last_row = rows > g->hit.row ? rows - 1 : g->hit.row;
    uint32_t last_col = cols > g->hit.col ? cols - 1 : g->hit.col;
    g->r0 = g->hit.row > GRID_ROWS_AROUND ? g->hit.row - GRID_ROWS_AROUND : 0;
    g->c0 = g->hit.col > GRID_COLS_AROUND ? g->hit.col - GRID_COLS_AROUND : 0;
    g->r1 = g->hit.row + GRID_ROWS_AROUND < last_row ? g->hit.row + GRID_ROWS_AROUND : last_row;
    g->c1 = g->hit.col + GRID_COLS_AROUND < last_col ? g->hit.col + GRID_COLS_AROUND : last_col;
    for (size_t k = 1; k < f->ncells && *nrelated < MAX_CELLS_LISTED; k++) {
        cellref c;
        if (!f->cells[k] || !ps_cell_ref_parse(f->cells[k], &c.row, &c.col))
            continue;
        related[(*nrelated)++] = c;
        uint32_t r0 = c.row < g->r0 ? c.row : g->r0, r1 = c.row > g->r1 ? c.row : g->r1;
        uint32_t c0 = c.col < g->c0 ? c.col : g->c0, c1 = c.col > g->c1 ? c.col : g->c1;
        if (r1 - r0 < GRID_MAX_ROWS && c1 - c0 < GRID_MAX_COLS) {
            g->r0 = r0, g->r1 = r1, g->c0 = c0, g->c1 = c1;
        }
    }
    bool labelled = false;
    for (uint32_t c = g->c0; c < g->hit.col && !labelled; c++)
        labelled = text_at(g->sh, g->hit.row, c);
    for (uint32_t c = g->c0; !labelled && c-- > 0;) {
        if (!text_at(g->sh, g->hit.row, c))
            continue;
        labelled = true;
        if (g->c0 - c <= 2)
            g->c0 = c; /* close enough: no gap for one column */
        else
            g->label = true, g->label_col = c;
    }
    g->related = related;
    g->nrelated = *nrelated;
    return true;
}

/* ---- sections ---- */

static void count_rule(ps_report *r, const ps_finding *f)
{
    rule_total *t = NULL;
    for (size_t k = 0; k < r->nrules && !t; k++)
        if (r->rules[k].severity == f->severity && !strcmp(r->rules[k].id, f->rule))
            t = &r->rules[k];
    if (!t) {
        if (r->nrules == r->rules_cap) {
            size_t cap = r->rules_cap ? r->rules_cap * 2 : 32;
            rule_total *bigger = realloc(r->rules, cap * sizeof *bigger);
            if (!bigger)
                return; /* the totals lose a rule; the section still shows the finding */
            r->rules = bigger;
            r->rules_cap = cap;
        }
        char *id = strdup(f->rule);
        if (!id)
            return;
        t = &r->rules[r->nrules++];
        *t = (rule_total){
            .id = id, .severity = f->severity, .example = f->message ? strdup(f->message) : NULL};
    }
    t->findings++;
    if (t->last_file != r->files) {
        t->last_file = r->files;
        t->files++;
    }
}

static void finding_html(ps_buf *b, const ps_workbook *wb, const ps_finding *f)
{
    static const char *sev_class[] = {"info", "warning", "error"};
    int sev = f->severity <= PS_SEV_ERROR ? (int)f->severity : PS_SEV_ERROR;
    ps_buf_printf(b, "<div class=\"f %s\" data-r=\"", sev_class[sev]);
    html_text(b, f->rule, 0);
    ps_buf_printf(b, "\"><p class=\"fh\"><span class=\"sev\">%s</span><span class=\"ref\">",
                  severity_word((ps_severity)sev));
    if (f->sheet)
        html_text(b, f->sheet, 0);
    if (f->cell) {
        ps_buf_puts(b, "!");
        html_text(b, f->cell, 0);
    }
    ps_buf_puts(b, "</span><span class=\"msg\">");
    html_text(b, f->message, 0);
    ps_buf_puts(b, "</span><span class=\"rule\">");
    html_text(b, f->rule, 0);
    ps_buf_puts(b, "</span></p>");
    grid g;
    cellref related[MAX_CELLS_LISTED];
    size_t nrelated;
    if (grid_plan(&g, wb, f, related, &nrelated)) {
        if (f->ncells > 1) {
            ps_buf_puts(b, "<p class=\"cells\">涉及单元格 ");
            for (size_t k = 0; k < f->ncells && k < MAX_CELLS_LISTED; k++) {
                ps_buf_puts(b, k ? "、" : "");
                html_text(b, f->cells[k], 0);
            }
            ps_buf_puts(b, f->ncells > MAX_CELLS_LISTED ? "…</p>" : "</p>");
        }
        grid_write(b, &g);
    } else if (f->cell && wb) {
        ps_buf_puts(b, "<p class=\"cells\">文件中找不到此单元格所在的工作表</p>");
    }
    ps_buf_puts(b, "</div>");
}

static void counts_html(ps_buf *b, const size_t by_sev[3])
{
    static const char *cls[] = {"info", "warning", "error"};
    for (int s = PS_SEV_ERROR; s >= PS_SEV_INFO; s--)
        if (by_sev[s])
            ps_buf_printf(b, "<span class=\"c %s\">%s %zu</span>", cls[s], severity_word((ps_severity)s),
                          by_sev[s]);
}

static template_total *template_of(ps_report *r, const char *id)
{
    for (size_t k = 0; k < r->ntemplates; k++)
        if (!strcmp(r->templates[k].id, id))
            return &r->templates[k];
    return NULL;
}

static void section_html(ps_report *r, ps_buf *b, const char *file, const ps_workbook *wb,
                         ps_document *const *docs, size_t ndocs, const ps_error *file_error)
{
    size_t by_sev[3] = {0};
    for (size_t d = 0; !file_error && d < ndocs; d++)
        for (int s = 0; s < 3; s++)
            by_sev[s] += ps_findings_count_severity(ps_document_findings_const(docs[d]), (ps_severity)s);
    const char *state = file_error               ? "bad"
                        : by_sev[PS_SEV_ERROR]   ? "error"
                        : by_sev[PS_SEV_WARNING] ? "warning"
                        : by_sev[PS_SEV_INFO]    ? "info"
                                                 : "clean";
    ps_buf_printf(b, "<section class=\"u %s\" id=\"u%zu\"><h2><span class=\"unit\">", state, r->files);
    bool named = false;
    for (size_t d = 0; !file_error && d < ndocs; d++) {
        const char *unit = ps_document_unit(docs[d]);
        bool repeat = false;
        for (size_t e = 0; unit && e < d; e++)
            repeat = repeat || (ps_document_unit(docs[e]) && !strcmp(ps_document_unit(docs[e]), unit));
        if (!unit || !*unit || repeat)
            continue;
        ps_buf_puts(b, named ? "、" : "");
        html_text(b, unit, 100);
        named = true;
    }
    if (!named)
        ps_buf_puts(b, file_error ? "无法处理的文件" : "（未填写单位名称）");
    ps_buf_puts(b, "</span><span class=\"file\">");
    html_text(b, file, 0);
    ps_buf_puts(b, "</span>");
    if (file_error)
        ps_buf_printf(b, "<span class=\"c error\">无法处理：%s</span>", failure_word(file_error->code));
    counts_html(b, by_sev);
    ps_buf_puts(b, "</h2>");
    if (file_error) {
        ps_buf_puts(b,
                    "<div class=\"f error\" data-r=\"file\"><p class=\"fh\"><span class=\"sev\">错误</span>"
                    "<span class=\"ref\">");
        html_text(b, file_error->sheet, 0);
        if (file_error->cell[0]) {
            ps_buf_puts(b, "!");
            html_text(b, file_error->cell, 0);
        }
        ps_buf_puts(b, "</span><span class=\"msg\">");
        html_text(b, file_error->message, 0);
        ps_buf_puts(b, "</span><span class=\"rule\">");
        html_text(b, ps_error_code_name(file_error->code), 0);
        ps_buf_puts(b, "</span></p></div></section>\n");
        return;
    }
    for (size_t d = 0; d < ndocs; d++) {
        const ps_document *doc = docs[d];
        const ps_mapping *m = ps_mapping_set_find(r->set, ps_document_template(doc));
        const ps_findings *list = ps_document_findings_const(doc);
        ps_buf_puts(b, "<div class=\"doc\"><h3>");
        html_text(b, m && *ps_mapping_title(m) ? ps_mapping_title(m) : ps_document_template(doc), 0);
        ps_buf_puts(b, "<span class=\"meta\">");
        html_text(b, ps_document_template(doc), 0);
        ps_buf_puts(b, " · 工作表");
        for (size_t k = 0; k < ps_document_sheet_count(doc); k++) { /* several: a multi-sheet template */
            ps_buf_puts(b, k ? "、「" : "「");
            html_text(b, ps_document_sheet_at(doc, k), 0);
            ps_buf_puts(b, "」");
        }
        if (ps_document_year(doc))
            ps_buf_printf(b, " · %d 年度", ps_document_year(doc));
        ps_buf_puts(b, "</span></h3>");
        if (!ps_findings_count(list))
            ps_buf_puts(b, "<p class=\"ok\">未发现问题</p>");
        else if (!wb)
            ps_buf_puts(b, "<p class=\"cells\">无法再次读取此文件，单元格周围的表格未能显示</p>");
        for (size_t k = 0; k < ps_findings_count(list); k++) {
            finding_html(b, wb, ps_findings_at(list, k));
            if (b->len > SECTION_FLUSH_BYTES)
                flush_section(r, b);
        }
        ps_buf_puts(b, "</div>");
    }
    if (!ndocs)
        ps_buf_puts(b, "<p class=\"ok\">文件中没有文档</p>");
    ps_buf_puts(b, "</section>\n");
}

static void tally(ps_report *r, ps_document *const *docs, size_t ndocs, const ps_error *file_error)
{
    if (file_error) {
        r->files_bad++;
        if (file_error->code <= PS_ERR_NOMEM)
            r->bad_by_code[file_error->code]++;
        count_rule(r, &(ps_finding){
                          .rule = "file", .severity = PS_SEV_ERROR, .message = (char *)file_error->message});
        return;
    }
    bool file_errors = false;
    for (size_t d = 0; d < ndocs; d++) {
        const ps_findings *list = ps_document_findings_const(docs[d]);
        template_total *t = template_of(r, ps_document_template(docs[d]));
        size_t errors = ps_findings_count_severity(list, PS_SEV_ERROR);
        r->docs++;
        file_errors = file_errors || errors;
        for (int s = 0; s < 3; s++) {
            size_t n = ps_findings_count_severity(list, (ps_severity)s);
            r->by_sev[s] += n;
            if (t)
                t->by_sev[s] += n;
        }
        if (t) {
            t->docs++;
            t->docs_with_errors += errors > 0;
        }
        for (size_t k = 0; k < ps_findings_count(list); k++)
            count_rule(r, ps_findings_at(list, k));
    }
    r->files_with_errors += file_errors;
}

/* ---- the report ---- */

ps_status ps_report_open(const ps_mapping_set *set, const char *out_path, ps_report **out, ps_error *err)
{
    ps_report *r = calloc(1, sizeof *r);
    if (!r || !(r->out_path = strdup(out_path))) {
        free(r);
        return ps_error_set(err, PS_ERR_NOMEM, out_path, "内存不足");
    }
    r->set = set;
    size_t n = ps_mapping_set_count(set);
    r->templates = calloc(n ? n : 1, sizeof *r->templates);
    for (size_t k = 0; r->templates && k < n; k++)
        if (ps_mapping_detectable(ps_mapping_set_at(set, k)))
            r->templates[r->ntemplates++].id = ps_mapping_id(ps_mapping_set_at(set, k));
    if (!r->templates) {
        ps_report_abort(r);
        return ps_error_set(err, PS_ERR_NOMEM, out_path, "内存不足");
    }
    if (!(r->body = tmpfile())) {
        int e = errno;
        ps_report_abort(r);
        return ps_error_set(err, PS_ERR_IO, out_path, "无法创建临时文件：%s", strerror(e));
    }
    /* the page's temporary name is taken now: an unwritable -o fails at once, not at the end */
    snprintf(r->tmp, sizeof r->tmp, "%s.tmp-%ld-XXXXXX", out_path, (long)getpid());
    int fd = mkstemp(r->tmp);
    if (fd < 0 || !(r->out = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(r->tmp);
        }
        r->tmp[0] = '\0';
        ps_report_abort(r);
        return ps_error_set(err, PS_ERR_IO, out_path, "无法写入：%s", strerror(e));
    }
    fchmod(fd, 0644);
    *out = r;
    return PS_OK;
}

ps_status ps_report_add_file(ps_report *r, const char *file, const ps_workbook *wb, ps_document *const *docs,
                             size_t ndocs, const ps_error *file_error, ps_error *err)
{
    if (file_error && file_error->code == PS_OK)
        file_error = NULL;
    r->files++;
    tally(r, docs, ndocs, file_error);
    ps_buf b = {0};
    r->oom = r->write_failed = false;
    section_html(r, &b, file, wb, docs, ndocs, file_error);
    flush_section(r, &b);
    ps_buf_free(&b);
    if (r->oom || r->write_failed)
        return ps_error_set(err, r->oom ? PS_ERR_NOMEM : PS_ERR_IO, r->out_path,
                            r->oom ? "内存不足" : "无法写入临时文件（磁盘已满？）");
    return PS_OK;
}

static const char page_css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.5 system-ui,\"Noto Sans CJK SC\",\"Microsoft YaHei\",\"PingFang SC\","
    "\"WenQuanYi Micro Hei\",sans-serif;color:#1f2328;background:#f4f5f7}"
    "header,#totals,main{max-width:1200px;margin:0 auto;padding:0 16px}"
    "h1{font-size:22px;margin:18px 0 2px}.meta{color:#57606a;font-size:13px;font-weight:normal}"
    "#totals{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;margin-top:12px}"
    ".card{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:10px 14px}"
    ".card h2{font-size:15px;margin:0 0 6px}"
    ".tiles{display:flex;gap:8px}.tile{cursor:pointer;border-radius:6px;padding:6px 14px;text-align:center;"
    "border:1px solid transparent}.tile b{display:block;font-size:22px}"
    ".tile.error{background:#ffebe9;color:#a40e26}.tile.warning{background:#fff4d4;color:#7a4d00}"
    ".tile.info{background:#ddf4ff;color:#0a3069}.tile.bad{background:#eee;color:#333}"
    "table.t{border-collapse:collapse}table.t td,table.t th{padding:2px 8px;border-bottom:1px solid #eaeef2;"
    "text-align:left;font-size:13px}table.t td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "table.t tr[data-rule]{cursor:pointer}table.t tr[data-rule]:hover{background:#f6f8fa}"
    "#bar{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #d8dee4;margin-top:12px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.06)}"
    "#bar div{max-width:1200px;margin:0 auto;padding:8px 16px;display:flex;flex-wrap:wrap;gap:10px;"
    "align-items:center}"
    "#bar input[type=search]{width:15em;padding:3px 6px}#bar select{max-width:22em}"
    "#shown{color:#57606a;margin-left:auto}.ex{color:#57606a;max-width:36em}"
    "section.u{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:12px 0;padding:8px 14px;"
    "content-visibility:auto;contain-intrinsic-size:auto 420px}"
    "section.u.error{border-left:4px solid #cf222e}section.u.warning{border-left:4px solid #bf8700}"
    "section.u.bad{border-left:4px solid #57606a}"
    "section.u h2{font-size:16px;margin:2px 0 4px;display:flex;flex-wrap:wrap;gap:4px "
    "12px;align-items:baseline}"
    ".file{font-size:12px;color:#57606a;font-weight:normal;word-break:break-all}"
    ".c{font-size:12px;font-weight:normal;border-radius:10px;padding:0 8px}"
    ".c.error{background:#ffebe9;color:#a40e26}.c.warning{background:#fff4d4;color:#7a4d00}"
    ".c.info{background:#ddf4ff;color:#0a3069}"
    "h3{font-size:14px;margin:8px 0 4px}h3 .meta{margin-left:10px}"
    ".ok{color:#1a7f37;margin:2px 0}"
    ".f{margin:6px 0 10px;padding-left:10px;border-left:3px solid #d8dee4}"
    ".f.error{border-color:#cf222e}.f.warning{border-color:#bf8700}.f.info{border-color:#54aeff}"
    ".fh{margin:0;display:flex;flex-wrap:wrap;gap:2px 10px;align-items:baseline}"
    ".sev{font-weight:bold}.error .sev{color:#cf222e}.warning .sev{color:#9a6700}.info .sev{color:#0969da}"
    ".ref{font-family:ui-monospace,monospace;background:#f6f8fa;padding:0 4px;border-radius:3px}"
    ".ref:empty{display:none}.rule{font-family:ui-monospace,monospace;font-size:12px;color:#57606a}"
    ".cells{margin:0;font-size:12px;color:#57606a}"
    "table.g{border-collapse:collapse;margin-top:4px;font-size:12px;max-width:100%}"
    "table.g th{background:#f6f8fa;color:#57606a;font-weight:normal;border:1px solid #d0d7de;padding:1px 4px;"
    "min-width:2em}"
    "table.g td{border:1px solid #d0d7de;padding:1px 5px;max-width:18em;white-space:pre-wrap;"
    "overflow-wrap:anywhere;vertical-align:top}"
    "table.g td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "table.g td.x{font-style:italic}"
    "table.g td.r{background:#fff8c5}"
    ".error td.h{background:#ffcecb;outline:2px solid #cf222e;outline-offset:-2px}"
    ".warning td.h{background:#ffe8a3;outline:2px solid #bf8700;outline-offset:-2px}"
    ".info td.h{background:#b6e3ff;outline:2px solid #0969da;outline-offset:-2px}"
    ".gap{background:repeating-linear-gradient(90deg,#f6f8fa 0 2px,#fff 2px 4px);min-width:1em;padding:0}"
    ".legend{font-size:12px;color:#57606a;max-width:1200px;margin:0 auto;padding:0 16px 6px}"
    ".legend i{display:inline-block;width:1.2em;height:.9em;vertical-align:middle;margin:0 3px 0 10px;"
    "border:1px solid #d0d7de}"
    ".hid{display:none!important}#none{text-align:center;color:#57606a}"
    "@media print{body{background:#fff}#bar{position:static;box-shadow:none}#bar input,#bar "
    "select{display:none}"
    "section.u{content-visibility:visible;break-inside:avoid-page}.f{break-inside:avoid}}";

static const char page_js[] =
    "(function(){"
    "var $=function(id){return document.getElementById(id)};"
    "var sevs=['error','warning','info'];"
    "var units=null;function index(){if(units)return;"
    "units=[].map.call(document.querySelectorAll('#units>section'),function(s){"
    "return{s:s,k:s.querySelector('h2').textContent.toLowerCase(),f:[].map.call(s.querySelectorAll('.f'),"
    "function(f){return{e:f,sev:f.classList.contains('error')?'error':f.classList.contains('warning')?"
    "'warning':'info',r:f.getAttribute('data-r'),t:null}})}})}"
    "function text(f){if(f.t===null)f.t=f.e.querySelector('.fh').textContent.toLowerCase();return f.t}"
    "function apply(user){var t0=performance.now();index();"
    "var on={},all=true;sevs.forEach(function(s){on[s]=$('s-'+s).checked;all=all&&on[s]});"
    "var rule=$('rule').value,u=$('unit').value.trim().toLowerCase(),q=$('q').value.trim().toLowerCase(),"
    "clean=$('clean').checked,narrowed=!all||rule||q,nu=0,nf=0;"
    "units.forEach(function(it){var uok=!u||it.k.indexOf(u)>=0,any=0;"
    "it.f.forEach(function(f){var ok=uok&&on[f.sev]&&(!rule||f.r===rule)&&(!q||text(f).indexOf(q)>=0);"
    "f.e.classList.toggle('hid',!ok);any+=ok?1:0});"
    "var vis=uok&&(any>0||(!narrowed&&(it.f.length>0||clean)));"
    "it.s.classList.toggle('hid',!vis);nu+=vis?1:0;nf+=any});"
    "$('shown').textContent='显示 '+nu+' / '+units.length+' 个文件，'+nf+' 条问题';"
    "$('none').classList.toggle('hid',nu>0);"
    "document.body.setAttribute('data-filter-ms',Math.round(performance.now()-t0));"
    "var h=[];if(!all)h.push('sev='+sevs.filter(function(s){return on[s]}).join(','));"
    "if(rule)h.push('rule='+encodeURIComponent(rule));if(u)h.push('unit='+encodeURIComponent(u));"
    "if(q)h.push('q='+encodeURIComponent(q));if(!clean)h.push('clean=0');"
    "if(user){try{history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname+location.search)}"
    "catch(e){}}}"
    "function load(first){var p={},n=0;location.hash.replace(/^#/,'').split('&').forEach(function(kv){"
    "var i=kv.indexOf('=');if(i>0){try{p[kv.slice(0,i)]=decodeURIComponent(kv.slice(i+1));n++}catch(e){}}});"
    "var id=location.hash.slice(1);if(first&&!n){if(id&&$(id))$(id).scrollIntoView();return}"
    "if(p.sev!==undefined){var want=p.sev.split(',');sevs.forEach(function(s){$('s-'+s).checked="
    "want.indexOf(s)>=0})}"
    "if(p.rule!==undefined){var sel=$('rule');sel.value=p.rule;if(sel.value!==p.rule)sel.value=''}"
    "$('unit').value=p.unit||'';$('q').value=p.q||'';$('clean').checked=p.clean!=='0';apply(false)}"
    "function user(){apply(true)}"
    "var timer=0;function later(){clearTimeout(timer);timer=setTimeout(user,150)}"
    "sevs.forEach(function(s){$('s-'+s).addEventListener('change',user)});"
    "['rule','clean'].forEach(function(id){$(id).addEventListener('change',user)});"
    "['unit','q'].forEach(function(id){$(id).addEventListener('input',later)});"
    "[].forEach.call(document.querySelectorAll('[data-rule]'),function(tr){tr.addEventListener('click',"
    "function(){$('rule').value=tr.getAttribute('data-rule');user();$('bar').scrollIntoView()})});"
    "[].forEach.call(document.querySelectorAll('.tile[data-sev]'),function(t){t.addEventListener('click',"
    "function(){var s=t.getAttribute('data-sev');sevs.forEach(function(x){$('s-'+x).checked=x===s});"
    "user();$('bar').scrollIntoView()})});"
    "window.addEventListener('hashchange',function(){load(false)});load(true);"
    "document.body.setAttribute('data-ready-ms',Math.round(performance.now()))})();";

static int cmp_rule(const void *pa, const void *pb)
{
    const rule_total *a = pa, *b = pb;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if (a->findings != b->findings)
        return a->findings > b->findings ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* A nonce for the page's Content-Security-Policy: only the script that carries it runs. */
static void make_nonce(char *buf, size_t size)
{
    unsigned char raw[16] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, sizeof raw) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof raw) { /* no /dev/urandom: time and pid, still unknown to a file's author */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
        for (size_t k = 0; k < sizeof raw; k++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            raw[k] = (unsigned char)(x >> 56);
    }
    size_t n = 0;
    for (size_t k = 0; k < sizeof raw && n + 2 < size; k++, n += 2)
        snprintf(buf + n, size - n, "%02x", raw[k]);
}

/* The page up to the sections: head, totals, filters. */
static void page_head(ps_report *r, ps_buf *b, const char *nonce)
{
    ps_buf_printf(b,
                  "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; script-src 'nonce-%s'; img-src data:\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<meta name=\"generator\" content=\"perfsheet\">"
                  "<title>绩效评价数据审核报告</title><style>",
                  nonce);
    ps_buf_puts(b, page_css);
    time_t now = time(NULL);
    struct tm tm;
    char when[32] = "";
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    ps_buf_printf(
        b,
        "</style></head><body><header><h1>绩效评价数据审核报告</h1><p class=\"meta\">perfsheet 生成于 "
        "%s · 文件 %zu 个（无法处理 %zu 个）· 文档 %zu 份 · 有错误的文件 %zu 个</p></header>",
        when, r->files, r->files_bad, r->docs, r->files_with_errors);

    ps_buf_puts(b, "<div id=\"totals\"><div class=\"card\"><h2>按严重程度</h2><div class=\"tiles\">");
    static const char *cls[] = {"info", "warning", "error"};
    for (int s = PS_SEV_ERROR; s >= PS_SEV_INFO; s--)
        ps_buf_printf(b, "<div class=\"tile %s\" data-sev=\"%s\"><b>%zu</b>%s</div>", cls[s], cls[s],
                      r->by_sev[s], severity_word((ps_severity)s));
    ps_buf_printf(b, "<div class=\"tile bad\"><b>%zu</b>无法处理的文件</div></div>", r->files_bad);
    if (r->files_bad) {
        ps_buf_puts(b, "<table class=\"t\"><tr><th>无法处理的原因</th><th>文件数</th></tr>");
        for (int c = 1; c <= PS_ERR_NOMEM; c++)
            if (r->bad_by_code[c])
                ps_buf_printf(
                    b, "<tr><td>%s <span class=\"rule\">%s</span></td><td class=\"n\">%zu</td></tr>",
                    failure_word((ps_status)c), ps_error_code_name((ps_status)c), r->bad_by_code[c]);
        ps_buf_puts(b, "</table>");
    }
    ps_buf_puts(b, "</div>");

    ps_buf_puts(b, "<div class=\"card\"><h2>按模板</h2><table class=\"t\"><tr><th>模板</th><th>文档</th>"
                   "<th>有错误的文档</th><th>错误</th><th>警告</th><th>提示</th></tr>");
    for (size_t k = 0; k < r->ntemplates; k++) {
        const template_total *t = &r->templates[k];
        const ps_mapping *m = ps_mapping_set_find(r->set, t->id);
        ps_buf_puts(b, "<tr><td>");
        html_text(b, m && *ps_mapping_title(m) ? ps_mapping_title(m) : t->id, 0);
        ps_buf_puts(b, " <span class=\"rule\">");
        html_text(b, t->id, 0);
        ps_buf_printf(b,
                      "</span></td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
                      "<td class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>",
                      t->docs, t->docs_with_errors, t->by_sev[PS_SEV_ERROR], t->by_sev[PS_SEV_WARNING],
                      t->by_sev[PS_SEV_INFO]);
    }
    ps_buf_puts(b, "</table></div>");

    if (r->nrules)
        qsort(r->rules, r->nrules, sizeof *r->rules, cmp_rule);
    ps_buf_puts(
        b, "<div class=\"card\"><h2>按规则 <span class=\"meta\">点击一行只看该规则</span></h2>"
           "<table "
           "class=\"t\"><tr><th>规则</th><th>严重程度</th><th>条数</th><th>文件数</th><th>示例</th></tr>");
    for (size_t k = 0; k < r->nrules; k++) {
        const rule_total *t = &r->rules[k];
        bool file = !strcmp(t->id, "file");
        ps_buf_puts(b, "<tr data-rule=\"");
        html_text(b, t->id, 0);
        ps_buf_puts(b, "\"><td class=\"rule\">");
        html_text(b, file ? "（无法处理的文件）" : t->id, 0);
        ps_buf_printf(b,
                      "</td><td class=\"%s\"><span class=\"sev\">%s</span></td><td class=\"n\">%zu</td>"
                      "<td class=\"n\">%zu</td><td class=\"ex\">",
                      cls[t->severity <= PS_SEV_ERROR ? t->severity : PS_SEV_ERROR],
                      severity_word(t->severity), t->findings, t->files);
        html_text(b, t->example, 60);
        ps_buf_puts(b, "</td></tr>");
    }
    if (!r->nrules)
        ps_buf_puts(b, "<tr><td colspan=\"5\">没有发现问题</td></tr>");
    ps_buf_puts(b, "</table></div></div>");

    ps_buf_puts(b, "<nav id=\"bar\"><div><span>严重程度</span>");
    for (int s = PS_SEV_ERROR; s >= PS_SEV_INFO; s--)
        ps_buf_printf(b, "<label><input type=\"checkbox\" id=\"s-%s\" checked> %s</label>", cls[s],
                      severity_word((ps_severity)s));
    ps_buf_puts(b, "<select id=\"rule\" title=\"规则\"><option value=\"\">全部规则</option>");
    for (size_t k = 0; k < r->nrules; k++) {
        bool dup = false; /* one rule may appear with two severities */
        for (size_t e = 0; e < k && !dup; e++)
            dup = !strcmp(r->rules[e].id, r->rules[k].id);
        if (dup)
            continue;
        ps_buf_puts(b, "<option value=\"");
        html_text(b, r->rules[k].id, 0);
        ps_buf_puts(b, "\">");
        html_text(b, strcmp(r->rules[k].id, "file") ? r->rules[k].id : "（无法处理的文件）", 0);
        ps_buf_puts(b, "</option>");
    }
    ps_buf_puts(b, "</select>"
                   "<input type=\"search\" id=\"unit\" placeholder=\"单位或文件名\" title=\"按单位筛选\">"
                   "<input type=\"search\" id=\"q\" placeholder=\"搜索：消息、单元格、规则\" title=\"搜索\">"
                   "<label><input type=\"checkbox\" id=\"clean\" checked> 显示无问题的文件</label>"
                   "<span id=\"shown\">");
    ps_buf_printf(b, "显示 %zu / %zu 个文件，%zu 条问题</span></div>", r->files, r->files,
                  r->by_sev[0] + r->by_sev[1] + r->by_sev[2] + r->files_bad);
    ps_buf_puts(
        b, "<p class=\"legend\">单元格：<i style=\"background:#ffcecb;outline:2px solid #cf222e\"></i>"
           "问题所在（错误）<i style=\"background:#ffe8a3\"></i>（警告）<i style=\"background:#b6e3ff\"></i>"
           "（提示）<i style=\"background:#fff8c5\"></i>同一问题涉及的其他单元格"
           "<i style=\"background:repeating-linear-gradient(90deg,#f6f8fa 0 2px,#fff 2px 4px)\"></i>"
           "省略的列　<em>斜体</em>：公式单元格（显示文件中保存的结果）　表格内容与文件中所填一致</p>"
           "</nav><main id=\"units\">\n");
}

static void page_tail(ps_buf *b, const char *nonce)
{
    ps_buf_printf(b, "</main><p id=\"none\" class=\"hid\">没有符合筛选条件的内容</p><script nonce=\"%s\">",
                  nonce);
    ps_buf_puts(b, page_js);
    ps_buf_puts(b, "</script></body></html>\n");
}

static void free_report(ps_report *r)
{
    if (r->body)
        fclose(r->body);
    if (r->out) { /* not closed: aborted or failed */
        fclose(r->out);
        unlink(r->tmp);
    }
    for (size_t k = 0; k < r->nrules; k++) {
        free(r->rules[k].id);
        free(r->rules[k].example);
    }
    free(r->rules);
    free(r->templates);
    free(r->out_path);
    free(r);
}

ps_status ps_report_close(ps_report *r, ps_error *err)
{
    char nonce[40];
    make_nonce(nonce, sizeof nonce);
    ps_buf b = {0};
    page_head(r, &b, nonce);
    bool ok = !b.oom && fwrite(b.data, 1, b.len, r->out) == b.len;
    ps_buf_free(&b);
    ok = ok && fflush(r->body) == 0 && fseek(r->body, 0, SEEK_SET) == 0;
    char chunk[65536];
    size_t got;
    while (ok && (got = fread(chunk, 1, sizeof chunk, r->body)) > 0)
        ok = fwrite(chunk, 1, got, r->out) == got;
    ok = ok && !ferror(r->body);
    page_tail(&b, nonce);
    ok = ok && !b.oom && fwrite(b.data, 1, b.len, r->out) == b.len;
    ps_buf_free(&b);
    int e = errno;
    ok = fclose(r->out) == 0 && ok;
    r->out = NULL;
    ok = ok && rename(r->tmp, r->out_path) == 0;
    if (!ok) {
        e = errno ? errno : e;
        unlink(r->tmp);
        ps_status st = ps_error_set(err, PS_ERR_IO, r->out_path, "无法写入：%s", strerror(e));
        free_report(r);
        return st;
    }
    free_report(r);
    return PS_OK;
}

void ps_report_abort(ps_report *r)
{
    if (r)
        free_report(r);
}
