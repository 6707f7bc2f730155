/* workbook_int.h - how the format readers build a ps_workbook. Private to src/. */
#ifndef PERFSHEET_WORKBOOK_INT_H
#define PERFSHEET_WORKBOOK_INT_H

#include "perfsheet/reader.h"
#include "perfsheet/workbook.h"

/* A new, empty workbook. NULL on out-of-memory. */
ps_workbook *ps_workbook_new(ps_file_format format);
void ps_workbook_set_codepage(ps_workbook *wb, int codepage);

/* Copies n bytes of s (plus a NUL) into the workbook's string arena; NULL on out-of-memory. */
const char *ps_workbook_strndup(ps_workbook *wb, const char *s, size_t n);

/* Appends a sheet named name (UTF-8, copied). NULL on out-of-memory. */
ps_sheet *ps_workbook_add_sheet(ps_workbook *wb, const char *name);
ps_sheet *ps_workbook_sheet_mut(ps_workbook *wb, size_t index);

/* Adds a cell (copied; its text must already live in the workbook's arena or be static).
 * Cells may come in any order; a later cell at the same address replaces an earlier one.
 * Returns false on out-of-memory. */
bool ps_sheet_put(ps_sheet *sh, const ps_cell *cell);
/* Looks up a cell while building (before ps_workbook_finish): NULL when absent. Slow path: it
 * sorts pending cells first. */
ps_cell *ps_sheet_cell_mut(ps_sheet *sh, uint32_t row, uint32_t col);
size_t ps_sheet_pending_count(const ps_sheet *sh);
bool ps_sheet_add_merge(ps_sheet *sh, ps_range range);

/* Sorts each sheet's cells, drops duplicates (last put wins) and blank cells, and computes
 * dimensions. Call once, after the last ps_sheet_put. */
void ps_workbook_finish(ps_workbook *wb);

#endif
