/* document.h - one template found in one sheet, as canonical values: the output of mapping
 * extraction and the input of checks and writers. Keys are those of spec/fields.md
 * ("funds.rate", "staff_quota", …); tables ("indicators", "projects") hold rows of keyed
 * values. A blank cell gives no key. Every value remembers the cell it came from.
 * A document owns all its strings (copied in); pointers it returns are borrowed until
 * ps_document_free(). */
#ifndef PERFSHEET_DOCUMENT_H
#define PERFSHEET_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfsheet/finding.h"

typedef enum ps_field_type {
    PS_TYPE_TEXT = 0,
    PS_TYPE_MONEY, /* 万元, 2 decimals */
    PS_TYPE_INT,
    PS_TYPE_NUMBER,   /* any number: weights, scores */
    PS_TYPE_FRACTION, /* rates: 0.996 for 99.6% */
    PS_TYPE_DATE,     /* ISO 8601 text */
    PS_TYPE_PHONE,    /* text of digits */
    PS_TYPE_GRADE,    /* 优秀/良好/较差/中/差 */
    PS_TYPE_YEAR,     /* int */
    PS_TYPE_TARGET,   /* free text as written plus a parsed number and comparator when present */
} ps_field_type;

#define PS_NO_CELL UINT32_MAX

typedef struct ps_value {
    ps_field_type type;
    bool has_number; /* number is meaningful (numeric types; a target with a number) */
    double number;
    const char *text;       /* text types: cleaned text; targets: the text as written (trimmed);
                               dates: ISO text; NULL for plain numbers */
    const char *raw;        /* the source cell's text exactly as written when the cell held
                               text; NULL when it held a number */
    const char *comparator; /* "≥", "≤", ">", "<" before a target's number, else NULL */
    uint32_t row, col;      /* source cell, 0-based; PS_NO_CELL when derived */
    uint16_t sheet;         /* the source cell's sheet: an index into the document's sheets
                               (ps_document_sheet_at); 0 for a one-sheet document */
    bool formula;           /* the source cell holds a formula */
    uint8_t decimals;       /* decimals displayed by the source cell (rate tolerance); 255 unknown */
} ps_value;

typedef struct ps_document ps_document;
typedef struct ps_table ps_table;

/* A new, empty document for template_id found in sheet of file, extracted with ps_mapping_path.
 * Strings are copied. NULL on out-of-memory. */
ps_document *ps_document_new(const char *template_id, const char *ps_mapping_path, const char *file,
                             const char *sheet);
void ps_document_free(ps_document *doc); /* takes NULL */

const char *ps_document_template(const ps_document *doc);
const char *ps_document_mapping(const ps_document *doc);
const char *ps_document_file(const ps_document *doc);
const char *ps_document_sheet(const ps_document *doc); /* the first (for one-sheet templates, the) sheet */
/* The sheets a document was read from, in its template's part order (docs/mapping.md, parts:):
 * index 0 is the sheet given to ps_document_new. ps_document_add_sheet appends name (or finds
 * it) and returns its index, SIZE_MAX on out-of-memory or past UINT16_MAX sheets. */
size_t ps_document_add_sheet(ps_document *doc, const char *name);
size_t ps_document_sheet_count(const ps_document *doc);
const char *ps_document_sheet_at(const ps_document *doc, size_t i); /* NULL when i is too big */
/* The name of the sheet v's source cell is on (the first sheet when v->sheet is out of range). */
const char *ps_document_value_sheet(const ps_document *doc, const ps_value *v);
/* v's source cell as people read it: "C33", or "公开01表!C33" in a document of several sheets;
 * "" when v has no cell. Returns buf. */
char *ps_document_value_ref(const ps_document *doc, const ps_value *v, char *buf, size_t size);
/* unit_name's text and year's number, or NULL / 0 when absent. */
const char *ps_document_unit(const ps_document *doc);
int ps_document_year(const ps_document *doc);

/* Sets key to a copy of *v (strings copied); replaces an earlier value of key, keeping its
 * position. Keys keep the order in which they were first set. false on out-of-memory. */
bool ps_document_set(ps_document *doc, const char *key, const ps_value *v);
/* Removes key if present. */
void ps_document_unset(ps_document *doc, const char *key);
const ps_value *ps_document_get(const ps_document *doc, const char *key); /* NULL when absent */
size_t ps_document_value_count(const ps_document *doc);
const char *ps_document_value_key(const ps_document *doc, size_t i);
const ps_value *ps_document_value_at(const ps_document *doc, size_t i);

/* Remembers the cell of key when that cell is blank (so there is no value), so that a rule can
 * point at a missing total (「…表中为空」). false on out-of-memory. */
bool ps_document_set_blank_cell(ps_document *doc, const char *key, uint32_t row, uint32_t col);
/* The same on the document's sheet number sheet (ps_document_add_sheet). */
bool ps_document_set_blank_cell_on(ps_document *doc, const char *key, size_t sheet, uint32_t row,
                                   uint32_t col);
/* The cell remembered for key, when key has no value: true and *row, *col set. */
bool ps_document_blank_cell(const ps_document *doc, const char *key, uint32_t *row, uint32_t *col);
/* The same with the cell's sheet index (ps_document_sheet_at). */
bool ps_document_blank_cell_on(const ps_document *doc, const char *key, size_t *sheet, uint32_t *row,
                               uint32_t *col);
/* Remembers that what locates key was not found in the sheet (what: 「标签“总分”」, 「标签“总分”上方的
 * 表头“得分”」), so there is no cell to point at: a finding about key says 「未找到…」 instead.
 * false on out-of-memory. */
bool ps_document_set_missing_label(ps_document *doc, const char *key, const char *what);
/* What was not found for key (ps_document_set_missing_label) when key has no value, else NULL. */
const char *ps_document_missing_label(const ps_document *doc, const char *key);

/* The key under which the blank cell of a table row is remembered: "<table>[<row>].<column>"
 * (ps_document_set_blank_cell), written into buf without printf (it is made for every blank cell
 * of every table). False when it does not fit in size bytes. */
bool ps_table_cell_key(char *buf, size_t size, const char *table, size_t row, const char *column);

/* The table named name, created (empty) when absent. NULL on out-of-memory. */
ps_table *ps_document_add_table(ps_document *doc, const char *name);
const ps_table *ps_document_table(const ps_document *doc, const char *name); /* NULL when absent */
size_t ps_document_table_count(const ps_document *doc);
const ps_table *ps_document_table_at(const ps_document *doc, size_t i);

const char *ps_table_name(const ps_table *t);
size_t ps_table_row_count(const ps_table *t);
/* Appends an empty row; returns its index, or SIZE_MAX on out-of-memory. */
size_t ps_table_add_row(ps_table *t);
bool ps_table_set(ps_table *t, size_t row, const char *key, const ps_value *v);
const ps_value *ps_table_get(const ps_table *t, size_t row, const char *key); /* NULL when absent */
/* Column keys in the order first set. */
size_t ps_table_column_count(const ps_table *t);
const char *ps_table_column(const ps_table *t, size_t i);

/* Findings about this document (cleaning notes, rule results). Owned by the document. */
ps_findings *ps_document_findings(ps_document *doc);
const ps_findings *ps_document_findings_const(const ps_document *doc);

/* doc, whole (values, blank cells, tables, findings), in a compact private form that only
 * ps_document_decode of the same build reads: for batches that park documents on disk between
 * passes instead of extracting them twice. *data is malloc'd (caller frees). false on
 * out-of-memory. */
bool ps_document_encode(const ps_document *doc, char **data, size_t *len);
/* The document ps_document_encode wrote, or NULL when data is not one (or out of memory). */
ps_document *ps_document_decode(const char *data, size_t len);

/* Convenience constructors for a value with no strings. */
ps_value ps_value_number(ps_field_type type, double number, uint32_t row, uint32_t col);

#endif
