/* mapping.h - mapping files: how a template's cells are found in a sheet (by fixed address or
 * by anchor label), which template a sheet holds (detection), and extraction of canonical
 * values into ps_document. Layouts are data (mappings/NAME.yaml, language in docs/mapping.md),
 * never C. A mapping set holds the built-in mappings (embedded in the binary) plus the
 * *.yaml files of a user directory.
 * A mapping is compiled completely when it is loaded - fields, tables, rules, messages, layout -
 * and every name it uses is resolved then: a slip fails loading at file:line:column, before any
 * input is read. No YAML is kept.
 * Ownership: a set owns its mappings; every pointer returned (strings, specs, rules, layout) is
 * borrowed until the owner is freed. */
#ifndef PERFSHEET_MAPPING_H
#define PERFSHEET_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/rules.h"
#include "perfsheet/workbook.h"

typedef struct ps_mapping ps_mapping;         /* one mapping file */
typedef struct ps_mapping_set ps_mapping_set; /* built-ins + user dir */

/* Loads the built-in mappings (embedded by the build from mappings/NAME.yaml, named
 * "mappings/zpb.yaml"), then every *.yaml of user_dir (may be NULL), in sorted order; a user
 * file with the same template id replaces the built-in one, two user files with one id are an
 * error. Cross-table names (jcsj:basic_expense.final) are resolved here, against the fields of
 * the other mappings of the set. On failure *err says file:line:column; *out is untouched.
 * Caller owns *out. */
ps_status ps_mapping_set_load(const char *user_dir, ps_mapping_set **out, ps_error *err);
void ps_mapping_set_free(ps_mapping_set *set); /* takes NULL */
size_t ps_mapping_set_count(const ps_mapping_set *set);
const ps_mapping *ps_mapping_set_at(const ps_mapping_set *set, size_t i);
/* The mapping whose id is id (detectable or rules-only), or NULL. */
const ps_mapping *ps_mapping_set_find(const ps_mapping_set *set, const char *id);

/* The text of line `line` (1-based) of the mapping file `file` - a built-in one by its name
 * ("mappings/zpb.yaml"), else read from disk - into buf, for the caret under a load error.
 * False when there is no such line. */
bool ps_mapping_source_line(const char *file, int line, char *buf, size_t size);

/* Parses one mapping from text (len bytes, need not be NUL-terminated); name is used in error
 * locations and as ps_mapping_path(). Errors carry name:line:column (1-based). Caller owns *out. */
ps_status ps_mapping_load_text(const char *name, const char *text, size_t len, ps_mapping **out,
                               ps_error *err);
/* As ps_mapping_load_text, reading path (at most 4 MiB). */
ps_status ps_mapping_load_file(const char *path, ps_mapping **out, ps_error *err);
void ps_mapping_free(ps_mapping *m); /* takes NULL */

const char *ps_mapping_id(const ps_mapping *m);    /* "zpb" */
const char *ps_mapping_title(const ps_mapping *m); /* "部门整体支出绩效自评表"; "" when absent */
const char *ps_mapping_path(const ps_mapping *m);  /* "mappings/zpb.yaml" or the user file */
int ps_mapping_version(const ps_mapping *m);       /* `version:`, 0 when absent */
/* False for a rules-only mapping (no `detect:` section, e.g. mappings/cross.yaml). */
bool ps_mapping_detectable(const ps_mapping *m);

/* The compiled `rules:` of m (an empty set when absent), borrowed while m lives. */
const ps_ruleset *ps_mapping_rules(const ps_mapping *m);

/* The `layout:` section (docs/mapping.md), read-only, borrowed while m lives; NULL when the
 * mapping has none. Every key it names is a field of the mapping (checked at load). An item
 * is a key with the label the layout gives it (NULL: none given). */
typedef struct ps_layout_item {
    const char *key, *label;
} ps_layout_item;
typedef enum ps_layout_block_kind {
    PS_LAYOUT_FIELDS = 0, /* rows of plain fields: items */
    PS_LAYOUT_GRID,       /* keys <row>.<column>: items are the rows, columns the columns */
    PS_LAYOUT_TABLE,      /* a table: items are its columns (none listed: items is empty) */
} ps_layout_block_kind;
typedef struct ps_layout_block {
    ps_layout_block_kind kind;
    const char *title;  /* NULL when absent */
    const char *table;  /* PS_LAYOUT_TABLE */
    const char *detail; /* PS_LAYOUT_TABLE: its sheet in the consolidated workbook; NULL when
                           not given, "" for `detail: false` */
    const ps_layout_item *items;
    size_t nitems;
    const ps_layout_item *columns; /* PS_LAYOUT_GRID */
    size_t ncolumns;
} ps_layout_block;
typedef struct ps_layout {
    const char *title, *sheet; /* NULL when absent */
    const ps_layout_item *header;
    size_t nheader; /* 0 with header NULL: not given */
    const ps_layout_block *blocks;
    size_t nblocks;
} ps_layout;
const ps_layout *ps_mapping_layout(const ps_mapping *m);

/* Canonical fields in the mapping's declaration order (the standard order of fields.md for the
 * built-in mappings), for writers: key, Chinese label, type, the table name for table columns
 * (NULL for plain values) and whether the field is marked required. */
typedef struct ps_field_spec {
    const char *key;
    const char *label;
    ps_field_type type;
    const char *table;
    bool required;
} ps_field_spec;
size_t ps_mapping_field_count(const ps_mapping *m);
const ps_field_spec *ps_mapping_field(const ps_mapping *m, size_t i); /* NULL when i is too big */

/* Detection per sheet, for `detect`: the best mapping of each sheet with its score in [0, 1]
 * (for a sheet holding a part of a multi-sheet template: that template, the part's name, and
 * the share of the template's required parts found in the workbook)
 * (the weighted share of the mapping's detect anchors found), complete when every anchor was
 * found (only then is the sheet extracted), and the names of the missing anchors ("绩效指标")
 * separated by "、". mapping is NULL when no mapping scored above 0 or when two mappings tie
 * completely (missing then says so). One entry per sheet, in sheet order; caller frees *out. */
typedef struct ps_detection {
    size_t sheet;
    const ps_mapping *mapping;
    const char *part; /* a multi-sheet template's part this sheet holds (its name); else NULL */
    double score;
    bool complete;
    char missing[256];
} ps_detection;
ps_status ps_mapping_detect(const ps_mapping_set *set, const ps_workbook *wb, ps_detection **out, size_t *n,
                            ps_error *err);

/* Extracts the template m from sheet sh of wb (no detection): a new document (caller frees)
 * whose values, tables and cleaning findings (ps_document_findings) come from the sheet. file is
 * the input's name as the caller wants it reported. NULL on out-of-memory. */
ps_document *ps_mapping_extract_sheet(const ps_mapping *m, const ps_workbook *wb, const ps_sheet *sh,
                                      const char *file);

/* Detects and extracts every template found in wb: one document per completely matched sheet
 * (a workbook with both templates yields two), in sheet order. Caller owns *docs (ps_document_free
 * each, free the array). PS_ERR_NO_TEMPLATE, with err naming the file and saying what is
 * missing, when no sheet matches completely. */
/* --year: the year of the year fields that no cell, constant or file name gives (0: none). */
void ps_mapping_set_year(ps_mapping_set *set, int year);
ps_status ps_mapping_extract_workbook(const ps_mapping_set *set, const ps_workbook *wb, const char *file,
                                      ps_document ***docs, size_t *ndocs, ps_error *err);

#endif
