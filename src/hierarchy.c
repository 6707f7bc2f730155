/* hierarchy.c - code hierarchies of the 决算 tables (hierarchy.h): codes normalised as typed,
 * parents found with a stack of the open ancestors in row order, the root a 合计/总计 row, and
 * the parent = Σ children check with its 尾数误差 band. */
#include "perfsheet/hierarchy.h"

#include "perfsheet/clean.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 8
#define MAX_CODE 24 /* bytes of a normalised code, NUL included */

typedef struct hrow {
    char code[MAX_CODE]; /* normalised digits; "" for the root and rows outside */
    int level;           /* 0 root, 1.. code level, -1 outside */
    size_t parent;
    size_t first_child, nchildren; /* into children[] */
} hrow;

struct ps_hierarchy {
    hrow *rows;
    size_t n, root;
    size_t *children; /* each parent's children, contiguous, in row order */
};

/* ---- codes ------------------------------------------------------------------------- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

/* Copies text into out without whitespace (ASCII, U+3000, U+00A0) and with full-width digits made
 * ASCII; false when it does not fit. */
static bool squeeze(const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
        } else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) { /* U+3000 */
            p += 3;
        } else if (p[0] == 0xC2 && p[1] == 0xA0) { /* U+00A0 */
            p += 2;
        } else if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) { /* ０-９ */
            if (n + 1 >= size)
                return false;
            out[n++] = (char)('0' + p[2] - 0x90);
            p += 3;
        } else {
            if (n + 1 >= size)
                return false;
            out[n++] = (char)*p++;
        }
    }
    out[n] = '\0';
    return true;
}

typedef enum code_kind { CODE_NONE, CODE_ROOT, CODE_DIGITS } code_kind;

/* What the text of a code cell is: a code (its digits into out), a 合计/总计 root, or neither. */
static code_kind read_code(const char *text, char *out, size_t size)
{
    char buf[256];
    out[0] = '\0';
    if (!text || !squeeze(text, buf, sizeof buf) || !buf[0])
        return CODE_NONE;
    size_t n = strlen(buf);
    if (ends_with(buf, n, "合计") || ends_with(buf, n, "总计"))
        return CODE_ROOT;
    /* a code typed as a number and formatted with decimals: 30101.0 */
    char *dot = strchr(buf, '.');
    if (dot && dot > buf && strspn(dot + 1, "0") == strlen(dot + 1)) {
        *dot = '\0';
        n = strlen(buf);
    }
    if (n == 0 || strspn(buf, "0123456789") != n || n >= size)
        return CODE_NONE;
    memcpy(out, buf, n + 1);
    return CODE_DIGITS;
}

/* ---- building ---------------------------------------------------------------------- */

ps_status ps_hierarchy_build(const char *const *codes, size_t n, const unsigned *levels, size_t nlevels,
                             ps_hierarchy **out, ps_error *err)
{
    if (nlevels == 0 || nlevels > MAX_LEVELS)
        return ps_error_set(err, PS_ERR_USAGE, NULL, "编码层级数应为 1 到 %d 个，实为 %zu 个", MAX_LEVELS,
                            nlevels);
    for (size_t i = 0; i < nlevels; i++)
        if (levels[i] == 0 || levels[i] >= MAX_CODE || (i > 0 && levels[i] <= levels[i - 1]))
            return ps_error_set(err, PS_ERR_USAGE, NULL, "编码长度应逐级递增（如 3、5、7），第 %zu 级为 %u",
                                i + 1, levels[i]);
    ps_hierarchy *h = calloc(1, sizeof *h);
    if (!h)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    h->rows = calloc(n ? n : 1, sizeof *h->rows);
    h->children = calloc(n ? n : 1, sizeof *h->children);
    size_t *stack = calloc(n ? n : 1, sizeof *stack);
    size_t *count = calloc(n ? n : 1, sizeof *count);
    if (!h->rows || !h->children || !stack || !count) {
        free(stack);
        free(count);
        ps_hierarchy_free(h);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    h->n = n;
    h->root = PS_HIERARCHY_NONE;
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        hrow *r = &h->rows[i];
        r->level = -1;
        r->parent = PS_HIERARCHY_NONE;
        code_kind k = read_code(codes[i], r->code, sizeof r->code);
        if (k == CODE_ROOT && h->root == PS_HIERARCHY_NONE) {
            h->root = i;
            r->level = 0;
            continue;
        }
        if (k != CODE_DIGITS)
            continue;
        size_t len = strlen(r->code);
        for (size_t l = 0; l < nlevels; l++)
            if (levels[l] == len)
                r->level = (int)l + 1;
        if (r->level < 0) {
            r->code[0] = '\0';
            continue;
        }
        /* the open ancestors: drop those whose code is not a proper prefix of this one */
        while (depth > 0) {
            const hrow *top = &h->rows[stack[depth - 1]];
            size_t tl = strlen(top->code);
            if (tl < len && !memcmp(top->code, r->code, tl))
                break;
            depth--;
        }
        if (depth > 0)
            r->parent = stack[depth - 1];
        stack[depth++] = i;
    }
    /* the root adopts every code without a parent */
    if (h->root != PS_HIERARCHY_NONE)
        for (size_t i = 0; i < n; i++)
            if (h->rows[i].level > 0 && h->rows[i].parent == PS_HIERARCHY_NONE)
                h->rows[i].parent = h->root;
    /* children, contiguous per parent, in row order */
    for (size_t i = 0; i < n; i++)
        if (h->rows[i].parent != PS_HIERARCHY_NONE)
            h->rows[h->rows[i].parent].nchildren++;
    size_t next = 0;
    for (size_t i = 0; i < n; i++) {
        h->rows[i].first_child = next;
        next += h->rows[i].nchildren;
    }
    for (size_t i = 0; i < n; i++) {
        size_t p = h->rows[i].parent;
        if (p != PS_HIERARCHY_NONE)
            h->children[h->rows[p].first_child + count[p]++] = i;
    }
    free(stack);
    free(count);
    *out = h;
    return PS_OK;
}

/* The text of a code cell: its text, or a number written without decimals. */
static const char *cell_code(const ps_cell *c, char *buf, size_t size)
{
    if (!c)
        return NULL;
    if (c->type == PS_CELL_TEXT)
        return c->text;
    if (c->type == PS_CELL_NUMBER && c->number >= 0 && c->number < 1e15 && c->number == floor(c->number)) {
        snprintf(buf, size, "%.0f", c->number);
        return buf;
    }
    return NULL;
}

ps_status ps_hierarchy_build_sheet(const ps_sheet *sh, uint32_t first_row, uint32_t last_row,
                                   uint32_t code_col, const unsigned *levels, size_t nlevels,
                                   ps_hierarchy **out, ps_error *err)
{
    size_t n = last_row >= first_row ? (size_t)(last_row - first_row) + 1 : 0;
    const char **codes = calloc(n ? n : 1, sizeof *codes);
    char(*nums)[32] = calloc(n ? n : 1, sizeof *nums);
    if (!codes || !nums) {
        free(codes);
        free(nums);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    for (size_t i = 0; i < n; i++)
        codes[i] = cell_code(ps_sheet_cell(sh, first_row + (uint32_t)i, code_col), nums[i], sizeof nums[i]);
    ps_status st = ps_hierarchy_build(codes, n, levels, nlevels, out, err);
    free(codes);
    free(nums);
    return st;
}

void ps_hierarchy_free(ps_hierarchy *h)
{
    if (!h)
        return;
    free(h->rows);
    free(h->children);
    free(h);
}

/* ---- accessors --------------------------------------------------------------------- */

size_t ps_hierarchy_rows(const ps_hierarchy *h)
{
    return h->n;
}

size_t ps_hierarchy_root(const ps_hierarchy *h)
{
    return h->root;
}

int ps_hierarchy_level(const ps_hierarchy *h, size_t row)
{
    return row < h->n ? h->rows[row].level : -1;
}

const char *ps_hierarchy_code(const ps_hierarchy *h, size_t row)
{
    return row < h->n ? h->rows[row].code : "";
}

size_t ps_hierarchy_parent(const ps_hierarchy *h, size_t row)
{
    return row < h->n ? h->rows[row].parent : PS_HIERARCHY_NONE;
}

size_t ps_hierarchy_child_count(const ps_hierarchy *h, size_t row)
{
    return row < h->n ? h->rows[row].nchildren : 0;
}

size_t ps_hierarchy_child(const ps_hierarchy *h, size_t row, size_t i)
{
    if (row >= h->n || i >= h->rows[row].nchildren)
        return PS_HIERARCHY_NONE;
    return h->children[h->rows[row].first_child + i];
}

/* ---- parent = Σ children ------------------------------------------------------------ */

ps_status ps_hierarchy_check_sums(const ps_hierarchy *h, const double *values, const bool *present,
                                  double band, ps_hierarchy_issue **out, size_t *nout, ps_error *err)
{
    if (band < 0)
        band = PS_HIERARCHY_BAND;
    ps_hierarchy_issue *issues = NULL;
    size_t n = 0, cap = 0;
    for (size_t p = 0; p < h->n; p++) {
        const hrow *r = &h->rows[p];
        if (r->nchildren == 0)
            continue;
        bool any = !present || present[p];
        double sum = 0, scale = fabs(values[p]);
        for (size_t k = 0; k < r->nchildren; k++) {
            size_t c = h->children[r->first_child + k];
            if (present && !present[c])
                continue;
            any = true;
            sum += values[c];
            scale = fmax(scale, fabs(values[c]));
        }
        if (!any)
            continue;
        double actual = !present || present[p] ? values[p] : 0;
        double diff = actual - sum;
        double eps = 1e-9 * fmax(1, scale); /* the sum's floating-point noise, not a difference */
        if (fabs(diff) <= eps)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ps_hierarchy_issue *grown = realloc(issues, cap * sizeof *grown);
            if (!grown) {
                free(issues);
                return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
            }
            issues = grown;
        }
        issues[n++] =
            (ps_hierarchy_issue){.row = p,
                                 .expected = sum,
                                 .actual = actual,
                                 .difference = diff,
                                 .severity = fabs(diff) <= band + eps ? PS_SEV_WARNING : PS_SEV_ERROR};
    }
    *out = issues;
    *nout = n;
    return PS_OK;
}

void ps_hierarchy_read_column(const ps_hierarchy *h, const ps_sheet *sh, uint32_t first_row, uint32_t col,
                              double *values, bool *present)
{
    for (size_t i = 0; i < h->n; i++) {
        const ps_cell *c = ps_sheet_cell(sh, first_row + (uint32_t)i, col);
        values[i] = 0;
        present[i] = false;
        if (c && c->type == PS_CELL_NUMBER) {
            values[i] = c->number;
            present[i] = true;
        } else if (c && c->type == PS_CELL_TEXT && c->text && !ps_clean_is_blank(c->text)) {
            ps_cleaned cl = ps_clean_number(c->text);
            if (cl.ok && !cl.percent) {
                values[i] = cl.number;
                present[i] = true;
            }
        }
    }
}

/* Money as the tables show it: two decimals, no "-0.00". */
static void money(double v, char *buf, size_t size)
{
    double r = round(v * 100) / 100;
    snprintf(buf, size, "%.2f", r == 0 ? 0.0 : r);
}

void ps_hierarchy_issue_message(const ps_hierarchy_issue *issue, char *buf, size_t size)
{
    char exp[48], act[48], diff[48];
    money(issue->expected, exp, sizeof exp);
    money(issue->actual, act, sizeof act);
    money(issue->difference, diff, sizeof diff);
    if (issue->severity == PS_SEV_WARNING)
        snprintf(buf, size, "尾数误差 %s：表中为 %s，下级合计 %s", diff, act, exp);
    else
        snprintf(buf, size, "应为 %s（下级合计），表中为 %s，相差 %s", exp, act, diff);
}
