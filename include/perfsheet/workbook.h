/* workbook.h - what the reader gives: a workbook of sheets of cells, the same for every
 * file format. A cell carries its type, its value (number or UTF-8 text), whether it holds
 * a formula (the value is then the formula's cached result), its number-format class and,
 * through the sheet, the merged range it belongs to.
 * Ownership: the workbook owns its sheets, their cells and every string they point to;
 * all pointers handed out are borrowed until ps_workbook_free(). */
#ifndef PERFSHEET_WORKBOOK_H
#define PERFSHEET_WORKBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ps_cell_type {
    PS_CELL_BLANK = 0,
    PS_CELL_NUMBER,
    PS_CELL_TEXT,
    PS_CELL_BOOL,
    PS_CELL_ERROR, /* text holds the Excel error literal: "#DIV/0!", "#N/A", … */
    PS_CELL_DATE,  /* number holds the Excel serial (1900 system), text its ISO form */
} ps_cell_type;

typedef enum ps_format_class {
    PS_FMT_GENERAL = 0,
    PS_FMT_NUMBER, /* an explicit number format: 0.00, #,##0.00, … */
    PS_FMT_PERCENT,
    PS_FMT_DATE,
    PS_FMT_TEXT, /* "@" */
} ps_format_class;

typedef enum ps_file_format {
    PS_FORMAT_UNKNOWN = 0,
    PS_FORMAT_XLS_BIFF8,
    PS_FORMAT_XLS_BIFF5,
    PS_FORMAT_XLSX,
} ps_file_format;

/* One non-blank cell. row and col are 0-based (A1 is 0,0). */
typedef struct ps_cell {
    uint32_t row;
    uint32_t col;
    uint8_t type;     /* ps_cell_type */
    uint8_t format;   /* ps_format_class */
    uint8_t decimals; /* decimals the number format shows (0.00% -> 2), 255 when unknown */
    bool formula;     /* the value is a formula's cached result */
    double number;    /* NUMBER, DATE (serial), BOOL (0 or 1) */
    const char *text; /* TEXT (UTF-8), ERROR literal, DATE ISO text; NULL otherwise */
} ps_cell;

/* A merged range, 0-based and inclusive. */
typedef struct ps_range {
    uint32_t first_row, first_col, last_row, last_col;
} ps_range;

typedef struct ps_workbook ps_workbook;
typedef struct ps_sheet ps_sheet;

void ps_workbook_free(ps_workbook *wb); /* takes NULL */

ps_file_format ps_workbook_format(const ps_workbook *wb);
const char *ps_workbook_format_name(ps_file_format f); /* "xls-biff8", "xls-biff5", "xlsx" */
int ps_workbook_codepage(const ps_workbook *wb);       /* BIFF5's CODEPAGE (936 = GBK), else 0 */
size_t ps_workbook_sheet_count(const ps_workbook *wb);
const ps_sheet *ps_workbook_sheet(const ps_workbook *wb, size_t index);

const char *ps_sheet_name(const ps_sheet *sh);
size_t ps_sheet_index(const ps_sheet *sh);
/* Dimensions: one past the last used row and column (0 for an empty sheet). */
uint32_t ps_sheet_rows(const ps_sheet *sh);
uint32_t ps_sheet_cols(const ps_sheet *sh);
/* The non-blank cells in row-major order. */
size_t ps_sheet_cell_count(const ps_sheet *sh);
const ps_cell *ps_sheet_cells(const ps_sheet *sh);
/* The cell at row, col, or NULL when it is blank. O(log n). */
const ps_cell *ps_sheet_cell(const ps_sheet *sh, uint32_t row, uint32_t col);
/* The cell that shows at row, col: the cell itself, or the top-left cell of the merged
 * range that covers it. NULL when blank. */
const ps_cell *ps_sheet_cell_shown(const ps_sheet *sh, uint32_t row, uint32_t col);
size_t ps_sheet_merge_count(const ps_sheet *sh);
const ps_range *ps_sheet_merges(const ps_sheet *sh);
/* The merged range covering row, col, or NULL. */
const ps_range *ps_sheet_merge_at(const ps_sheet *sh, uint32_t row, uint32_t col);

/* A1 reference of a 0-based cell into buf ("F6"); returns buf. size >= 16 is enough. */
char *ps_cell_ref(uint32_t row, uint32_t col, char *buf, size_t size);
/* Parses "F6" / "$F$6" into 0-based row and col; returns false when it is not a reference. */
bool ps_cell_ref_parse(const char *ref, uint32_t *row, uint32_t *col);

#endif
