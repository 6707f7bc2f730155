/* hierarchy.h - code hierarchies of the 决算 tables: rows keyed by 功能分类科目编码 (类 3 digits,
 * 款 5, 项 7) or 经济分类 (301, 30101), each row's parent and children derived from the codes in
 * row order, and the check "each parent = Σ its children" over a column with a 尾数误差 band.
 * Pure data: no mapping, no YAML. Tests: tests/unit/test_hierarchy.c (the Anhua 决算). */
#ifndef PERFSHEET_HIERARCHY_H
#define PERFSHEET_HIERARCHY_H

#include "perfsheet/error.h"
#include "perfsheet/finding.h"
#include "perfsheet/workbook.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS_HIERARCHY_NONE ((size_t)-1)
#define PS_HIERARCHY_BAND 0.01 /* 尾数误差: up to 0.01 万元 is a rounding difference */

typedef struct ps_hierarchy ps_hierarchy;

/* Builds the hierarchy of n table rows in order. codes[i] is the text of row i's code cell (NULL
 * or blank: the row is not part of it). levels are the code lengths, strictly increasing
 * ({3, 5, 7} for 功能分类, {3, 5} for 经济分类), at most 8 of them.
 * Codes are read as typed: whitespace (U+3000 too) dropped, full-width digits made ASCII, a
 * number's trailing ".0" dropped. A code whose length is not a level, or that holds anything but
 * digits, stays out of the hierarchy. The first row whose text is or ends with 合计 / 总计
 * (合计, 人员经费合计) is the root, wherever it stands: it is the parent of every code without
 * one. A code's parent is the nearest row above it, still open, whose code is a proper prefix of
 * it - so a level may be missing (a 7-digit code right under its 3-digit 类 when no 5-digit 款
 * exists). Caller owns *out: ps_hierarchy_free(). Fails with PS_ERR_USAGE on bad levels,
 * PS_ERR_NOMEM. */
ps_status ps_hierarchy_build(const char *const *codes, size_t n, const unsigned *levels, size_t nlevels,
                             ps_hierarchy **out, ps_error *err);

/* ps_hierarchy_build on the sheet rows first_row..last_row (0-based, inclusive) with codes in
 * column code_col: numbers are codes as well as text. Row i of the hierarchy is sheet row
 * first_row + i. */
ps_status ps_hierarchy_build_sheet(const ps_sheet *sh, uint32_t first_row, uint32_t last_row,
                                   uint32_t code_col, const unsigned *levels, size_t nlevels,
                                   ps_hierarchy **out, ps_error *err);

void ps_hierarchy_free(ps_hierarchy *h); /* takes NULL */

size_t ps_hierarchy_rows(const ps_hierarchy *h);
size_t ps_hierarchy_root(const ps_hierarchy *h); /* the 合计 row, or PS_HIERARCHY_NONE */
/* 0 for the root, 1 + the index of its length in levels for a code row (类 1, 款 2, 项 3), -1 for a
 * row outside the hierarchy. */
int ps_hierarchy_level(const ps_hierarchy *h, size_t row);
const char *ps_hierarchy_code(const ps_hierarchy *h, size_t row); /* the normalised code, "" if none */
size_t ps_hierarchy_parent(const ps_hierarchy *h, size_t row);    /* or PS_HIERARCHY_NONE */
size_t ps_hierarchy_child_count(const ps_hierarchy *h, size_t row);
size_t ps_hierarchy_child(const ps_hierarchy *h, size_t row, size_t i); /* in row order */

/* One parent whose figure is not the sum of its children's. */
typedef struct ps_hierarchy_issue {
    size_t row;           /* the parent's row */
    double expected;      /* Σ of its children's figures (a blank one counts 0) */
    double actual;        /* its own figure (blank: 0) */
    double difference;    /* actual - expected */
    ps_severity severity; /* PS_SEV_WARNING within the band (尾数误差), PS_SEV_ERROR beyond */
} ps_hierarchy_issue;

/* Checks every parent (the root included) against the sum of its children over one column:
 * values[i] is row i's figure, present[i] false when its cell is blank (a blank counts 0; NULL:
 * all present). A parent that is blank with all its children blank is skipped. A difference up
 * to band (PS_HIERARCHY_BAND when band < 0) is a warning, more an error; none at all is no
 * issue. *out (caller frees with free(); NULL when *nout is 0) gets the issues in row order. */
ps_status ps_hierarchy_check_sums(const ps_hierarchy *h, const double *values, const bool *present,
                                  double band, ps_hierarchy_issue **out, size_t *nout, ps_error *err);

/* The figures of column col on the rows of a hierarchy built by ps_hierarchy_build_sheet:
 * numbers, or text that reads as a number (「1,220.03」); anything else is blank. values and
 * present hold ps_hierarchy_rows(h) entries each. */
void ps_hierarchy_read_column(const ps_hierarchy *h, const ps_sheet *sh, uint32_t first_row, uint32_t col,
                              double *values, bool *present);

/* The issue in Chinese: 「尾数误差 0.01：表中为 6866.94，下级合计 6866.93」 for a warning,
 * 「应为 6856.93（下级合计），表中为 6866.94，相差 10.01」 for an error. */
void ps_hierarchy_issue_message(const ps_hierarchy_issue *issue, char *buf, size_t size);

#endif
