/* writer_int.h - what writer_xlsx.c (one standardized workbook per document) and merge.c (the
 * consolidated workbook) share: the layout read from a mapping, cell formats by kind and
 * severity, finding → cell lookups, and atomic output through a temporary file.
 * Private to src/. */
#ifndef PERFSHEET_WRITER_INT_H
#define PERFSHEET_WRITER_INT_H

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/finding.h"
#include "perfsheet/mapping.h"

#include "arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <xlsxwriter.h>

#define WRITER_SHEET_BYTES (31 * 4)

/* ---- layout: from the mapping's fields, refined by its `layout:` section ---- */

typedef enum wr_block_kind { WR_FIELDS, WR_GRID, WR_TABLE } wr_block_kind;

typedef struct wr_item {
    const char *key; /* fields: the key; grid rows: the key prefix; grid columns: the suffix;
                        table columns: the column key */
    const char *label;
} wr_item;

typedef struct wr_block {
    wr_block_kind kind;
    const char *title; /* may be NULL */
    const char *table; /* WR_TABLE */
    wr_item *rows;     /* WR_FIELDS: fields; WR_GRID: rows; WR_TABLE: columns */
    size_t nrows;
    wr_item *cols; /* WR_GRID: columns (suffixes) */
    size_t ncols;
    const char *detail; /* WR_TABLE: the consolidated workbook's sheet of the table's rows
                           (`detail:`); NULL: 明细-<table>; "": none (`detail: false`) */
} wr_block;

typedef struct wr_formula {
    const char *target; /* a key, possibly with '*' standing for a grid column suffix */
    const char *expr;   /* + - * / ( ), numbers, keys, sum(table.column), sum(k, …),
                           coalesce(x, y, …): the first argument with a value */
} wr_formula;

typedef struct wr_layout {
    ps_arena arena;
    const ps_mapping *mapping; /* borrowed; may be NULL */
    const char *title, *sheet;
    wr_item *header; /* unit, year, date rows */
    size_t nheader;
    wr_block *blocks;
    size_t nblocks, block_cap;
    wr_formula *formulas;
    size_t nformulas;
} wr_layout;

/* Builds the layout of mapping m (NULL: an empty layout, filled from documents). Fills *err
 * (PS_ERR_MAPPING with the mapping file and line) when the `layout:` section is invalid. */
ps_status ps_wr_layout_build(const ps_mapping *m, wr_layout **out, ps_error *err);
void ps_wr_layout_free(wr_layout *l);
/* Label and type of a key per the mapping; key itself and PS_TYPE_TEXT when unknown. */
const char *ps_wr_label(const wr_layout *l, const char *key, const char *table);
ps_field_type ps_wr_type(const wr_layout *l, const char *key, const char *table, const ps_value *v);
/* The label the layout gives a plain key (header and fields blocks), else ps_wr_label's. */
const char *ps_wr_field_label(const wr_layout *l, const char *key);
/* The column key of a table field spec as stored in a document ("indicators[].name" →
 * "name"). */
const char *ps_wr_table_column_key(const char *key, const char *table);

/* ---- formats ---- */

typedef enum wr_kind {
    WR_K_TEXT = 0,
    WR_K_MONEY,
    WR_K_INT,
    WR_K_NUMBER,
    WR_K_RATE,
    WR_K_DATE,
    WR_K_LABEL,  /* row label */
    WR_K_HEADER, /* column header: bold, grey, bordered */
    WR_K_TITLE,
    WR_K_TOTAL, /* totals row label */
    WR_K_LINK,  /* an internal hyperlink: blue, underlined */
    WR_K_NOTE,  /* a line of explanation: no border, no wrap (it overflows to the right) */
    WR_K_COUNT
} wr_kind;

#define WR_SEV_LEVELS 4 /* none, info, warning, error */

typedef struct wr_formats {
    lxw_workbook *wb;
    lxw_format *f[WR_K_COUNT][WR_SEV_LEVELS];
    lxw_format *bold[WR_K_COUNT];
} wr_formats;

/* The format of kind with the fill of severity level sev (0 none, 1 + ps_severity), created on
 * first use. */
lxw_format *ps_wr_format(wr_formats *fm, wr_kind kind, int sev);
/* The format of kind in bold on a light grey fill (a totals row), created on first use. */
lxw_format *ps_wr_format_total(wr_formats *fm, wr_kind kind);
wr_kind ps_wr_kind_of(ps_field_type t);

/* Writes v in a cell of kind fitting type t: numbers as numbers, dates as dates, text always as
 * a string (never a formula). */
lxw_error ps_wr_write_value(lxw_worksheet *ws, uint32_t row, uint16_t col, const ps_value *v, ps_field_type t,
                            wr_formats *fm, int sev);
/* Writes text as a string cell (never a formula): invalid UTF-8 becomes U+FFFD, control
 * characters XML cannot hold a space, and text beyond Excel's 32,767 characters is cut. */
lxw_error ps_wr_write_string(lxw_worksheet *ws, uint32_t row, uint16_t col, const char *text, lxw_format *f);
/* In place: invalid UTF-8 bytes become '?', control characters but \n and \t a space. */
void ps_wr_sanitize(char *s);
/* Drops an incomplete UTF-8 sequence at the end of s (after a byte-bounded snprintf). */
void ps_wr_utf8_trim_tail(char *s);
/* Parses ISO "YYYY-MM-DD[THH:MM[:SS]]" into *dt. */
bool ps_wr_parse_date(const char *s, lxw_datetime *dt);

/* ---- findings on cells ---- */

/* 错误, 警告, 提示. */
const char *ps_wr_severity_label(ps_severity sev);
/* Whether f points at source cell (row, col) of sheet (a finding without a sheet: any). */
bool ps_wr_finding_at(const ps_finding *f, const char *sheet, uint32_t row, uint32_t col);
/* Appends f as one comment line to msg (size bytes): 「错误：<message>〔<rule>〕」, the Chinese
 * message first; on a new line when msg is not empty, cut at a UTF-8 boundary when full. */
void ps_wr_comment_line(const ps_finding *f, char *msg, size_t size);
/* The highest severity level (0 none, 1 + ps_severity) of findings of fl pointing at source
 * cell (row, col) of sheet; their comment lines appended to msg when not NULL. */
int ps_wr_cell_severity(const ps_findings *fl, const char *sheet, uint32_t row, uint32_t col, char *msg,
                        size_t msg_size);
/* Lines text takes when wrapped in a column width characters wide (CJK counts two), at
 * least 1: row heights are set from it, as LibreOffice does not fit rows to wrapped text of
 * an .xlsx on load. */
unsigned ps_wr_text_lines(const char *text, double width);
/* The height in points of a row of that many lines (at most Excel's 409). */
double ps_wr_row_height(unsigned lines);
/* Writes text as the comment of a cell, its box sized to the text. */
lxw_error ps_wr_write_comment(lxw_worksheet *ws, uint32_t row, uint16_t col, const char *text);

/* ---- atomic output ---- */

/* A fresh temporary name next to path: "<dir>/.<name>.tmp-<pid>-<n>.xlsx". */
void ps_wr_temp_path(const char *path, char *buf, size_t size);
/* A new workbook at tmp (created now, exclusively) with fixed document properties
 * (deterministic output). NULL with *err filled when tmp cannot be created. */
lxw_workbook *ps_wr_workbook_new(const char *tmp, bool constant_memory, const char *title, ps_error *err);
/* Rewrites docProps/app.xml of the closed workbook at path so that it names perfsheet, not
 * Microsoft Excel (libxlsxwriter hard-codes that): 0, or -1 (errno may say why) when the file
 * cannot be patched. */
int ps_wr_fix_app_props(const char *path);
/* An unlinked temporary file in $TMPDIR (when a writable folder) or /tmp, open for reading
 * and writing: the merge's spill. -1 with errno on failure. */
int ps_wr_spill_file(void);
/* Closes wb, names perfsheet in its properties and renames tmp over path; removes tmp on any
 * failure. */
ps_status ps_wr_workbook_commit(lxw_workbook *wb, const char *tmp, const char *path, ps_error *err);

#endif
