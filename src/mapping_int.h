/* mapping_int.h - the parsed form of a mapping file, shared by mapping_load.c (YAML -> structs),
 * mapping.c (sets, matching, detection) and mapping_extract.c (cells -> document).
 * Private to src/. */
#ifndef PERFSHEET_MAPPING_INT_H
#define PERFSHEET_MAPPING_INT_H

#include "perfsheet/mapping.h"

#include "arena.h"

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <regex.h> /* regmatch_t: the capture spans ps_map_match reports */
#include <stdint.h>

/* Labels are searched in this window of each sheet (templates are small; this bounds the
 * work on a pathological sheet of millions of cells). */
#define MAP_MAX_ROWS 2000u
#define MAP_MAX_COLS 128u

typedef enum match_kind { MATCH_EXACT = 0, MATCH_PREFIX, MATCH_CONTAINS, MATCH_REGEX } match_kind;

/* A label test on the normalised text of a cell (ps_clean_label). */
typedef struct map_matcher {
    bool set;
    match_kind kind;
    const char *text; /* normalised for EXACT/PREFIX/CONTAINS, the pattern for REGEX */
    pcre2_code *re;   /* REGEX: compiled (UTF-8; JIT when available, on first use) */
    bool compiled;
    bool jit_done; /* JIT compiled (or tried): set once under a lock, read atomically */
    char must[64]; /* REGEX: a literal every match contains ("" when none): strstr rejects most
                      labels before regexec runs */
    unsigned nth;  /* 1-based occurrence in row-major order */
    int line, col;
} map_matcher;

typedef enum take_kind {
    TAKE_NONE = 0,
    TAKE_SELF,           /* the label cell itself */
    TAKE_RIGHT,          /* the cell just right of the label (after its merged range) */
    TAKE_RIGHT_NONBLANK, /* the first non-blank cell to the right on the label's row */
    TAKE_BELOW,          /* the cell just under the label (after its merged range) */
    TAKE_OFFSET,         /* label + (dr, dc) */
    TAKE_CAPTURE,        /* a capture group of the label's regex */
    TAKE_BELOW_ROW,      /* the label's column on the first row of figures under it: blank rows
                            and a 栏次 row (栏次, or the column numbers 1, 2, 3 …) passed over */
} take_kind;

typedef struct map_field {
    unsigned part; /* the part (sheet) it is read from: 0 in a one-sheet template */
    const char *key, *label;
    ps_field_type type;
    bool required;
    bool has_at;
    uint32_t at_row, at_col;
    map_matcher find;   /* the label (or row label) */
    map_matcher column; /* optional: the value is in this header's column, on the label's row */
    take_kind take;
    int dr, dc;
    int capture;
    const char *stop; /* normalised: the captured text is cut where this starts */
    take_kind fallback;
    const char *value; /* `value:` a constant: the field has it, no cell is read */
    const char *deflt; /* `default:` when the cell is blank or the label not found */
    pcre2_code *split; /* `split: {regex, part}` on the value cell's raw text */
    int split_part;
    pcre2_code *from_file; /* `from_filename:` a regex on the file's base name (group 1, else the match) */
    int line, col;
} map_field;

typedef struct map_column {
    const char *key, *label;
    ps_field_type type;
    map_matcher header;     /* column found by its header text */
    bool from_anchor;       /* the column of the table's start anchor */
    bool fill_down;         /* blank (merged) cells take the value above */
    const char *weight_key; /* 「产出指标（50分）」: the (N分) part goes to this key */
    bool as_label; /* the text read as a label: line breaks and spaces dropped, a doubled label once */
    int line, col;
} map_column;

typedef struct map_section {
    map_matcher m;
    const char *value;
} map_section;

typedef struct map_table {
    unsigned part;
    const char *name;
    map_matcher header; /* the header row: columns' headers are searched in it */
    map_matcher start;  /* rows start after this anchor (when no header) */
    map_matcher end;    /* rows stop before this anchor */
    map_matcher skip;   /* rows whose row_key text matches are skipped (placeholders "……") */
    map_column *cols;
    size_t ncols;
    map_section *sections;
    size_t nsections;
    const char *section_key;
    const char *row_key; /* a row counts when this column is non-blank */
    const char *count_key;
    const char *count_label; /* `count: {key, label}`; NULL: the key */
    /* grouping into blocks (zpb 一级指标 blocks) */
    const char *blocks_table, *blocks_by;
    const char **blocks_keep;
    size_t nblocks_keep;
    const char **blocks_values; /* per block when merged down the block, else per row */
    size_t nblocks_values;
    int weights_mode; /* 0 auto, 1 row, 2 block */
    /* `sums: {weight: row_weight_sum}`: per block row, the sum of a column over its table rows */
    const char **sums_cols, **sums_keys;
    size_t nsums;
    int line, col;
} map_table;

typedef struct map_detect_item {
    unsigned part;
    map_matcher m;
    const char *name;
    double weight;
} map_detect_item;

/* One sheet of a multi-sheet template (`parts:`): found by its own detect items
 * items[items_begin, items_end); its fields and tables carry its index. */
typedef struct map_part {
    const char *name;
    bool optional; /* the document is whole without it */
    size_t items_begin, items_end;
    int line, col;
} map_part;

struct ps_mapping {
    ps_arena arena;
    const char *id, *title, *path;
    int version;
    bool builtin; /* embedded by the build (else a -m file) */
    bool detectable;
    map_detect_item *items;
    size_t nitems;
    map_part *parts; /* `parts:`; NULL (nparts 0) for a one-sheet template */
    size_t nparts;
    map_field *fields;
    size_t nfields;
    map_table *tables;
    size_t ntables;
    ps_field_spec *specs;
    size_t nspecs;
    /* the keys of specs by (table, key), and the tables by (table, NULL): open addressing, a
     * slot holds 1 + the spec's index; built once fields and tables are read */
    uint32_t *key_slots;
    size_t nkey_slots; /* a power of two */
    /* `aliases: {可持续影响招标: 可持续影响指标}`: text values whose normalised text is a key
     * read as its value (both normalised like labels) */
    const char **alias_from, **alias_to;
    size_t naliases;
    ps_ruleset *rules; /* `rules:`, compiled and resolved (never NULL once loaded) */
    bool has_layout;
    ps_layout layout; /* `layout:`: arrays in the arena */
};

/* mapping.c: matching on a sheet. */
typedef struct map_sheet {
    const ps_sheet *sh;
    size_t n; /* cells in the window */
    const ps_cell **cells;
    char **labels; /* normalised text, NULL for non-text cells; point into `joined` */
    /* every label, NUL-separated in cell order, so that one memmem per matcher finds the
     * candidate labels (a needle holds no NUL, so no hit spans two labels) */
    char *joined;
    size_t joined_len;
    size_t *text_off; /* offset in joined of the t-th text label, increasing */
    size_t *text_idx; /* its cell index */
    size_t ntext;
    /* exact-label index: open addressing on the label's hash; a slot holds 1 + the first
     * text label t with that text, same_next[t] 1 + the next one (0 ends), in cell order */
    uint32_t *slots;
    size_t nslots; /* a power of two, at least twice ntext */
    uint32_t *same_next;
    uint32_t *text_hash;  /* ps_map_label_hash of the t-th text label */
    signed char *utf8;    /* per cell: 0 not checked yet, 1 its label is UTF-8, -1 it is not */
    pcre2_match_data *md; /* MAP_MD_PAIRS pairs, reused by the regexes run on this sheet; may be NULL */
} map_sheet;

#define MAP_MD_PAIRS 10

bool ps_map_sheet_init(map_sheet *ms, const ps_sheet *sh);
/* ps_mapping_extract_sheet on a sheet whose label index is already built; year: --year (0 none)
 * for the year fields no cell, constant or file name gives. */
ps_document *ps_map_extract_indexed(const ps_mapping *m, const map_sheet *ms, const char *file, int year);
/* The same for a multi-sheet template: sheets[p] is the indexed sheet of part p (NULL: the part
 * was not found; only an optional part may be missing). */
ps_document *ps_map_extract_parts(const ps_mapping *m, const map_sheet *const *sheets, const char *file,
                                  int year);
void ps_map_sheet_release(map_sheet *ms);
/* True when the normalised label matches; captures (if regex) into pm (nmatch entries). */
bool ps_map_match(const map_matcher *m, const char *label, regmatch_t *pm, size_t nmatch);
/* ps_map_match on the label of ms's cell i, with less work: PCRE2's UTF-8 check is done once per
 * label, its match data made once per sheet. */
bool ps_map_match_cell(const map_sheet *ms, size_t i, const map_matcher *m, regmatch_t *pm, size_t nmatch);
/* The hash of the n bytes of a normalised label, as the exact-label index keys it. */
uint32_t ps_map_label_hash(const char *s, size_t n);
/* The index in ms of the nth cell matching m (searching rows >= min_row, and only row `row_only`
 * when it is not UINT32_MAX), or SIZE_MAX. */
size_t ps_map_find(const map_sheet *ms, const map_matcher *m, uint32_t min_row, uint32_t row_only);
/* Calls visit(i, ctx) for the index i of each cell matching m (every one: m->nth is not applied)
 * on the rows ps_map_find searches, in cell order (row-major), until visit returns false. */
void ps_map_each(const map_sheet *ms, const map_matcher *m, uint32_t min_row, uint32_t row_only,
                 bool (*visit)(size_t i, void *ctx), void *ctx);
void ps_map_matcher_free(map_matcher *m);

/* ps_mapping_load_text; builtin: the text is a built-in mapping, embedded by the build from
 * mappings/NAME.yaml (UTF-8 checked by the tests, not at every start). */
ps_status ps_map_load_text(const char *name, const char *text, size_t len, bool builtin, ps_mapping **out,
                           ps_error *err);

/* Does m define key - a plain field (table NULL) or a column of table? With key NULL: is table
 * one of m's tables? O(1): the names a mapping's rules and layout use are resolved at load. */
bool ps_map_has_key(const ps_mapping *m, const char *table, const char *key);
/* Builds the index ps_map_has_key uses (mapping_load.c, once the specs are complete). */
bool ps_map_index_keys(ps_mapping *m);

#endif
