/* previous.h - last year's figures for year-on-year rules (`previous.` keys, docs/rules.md):
 * the SQLite database `perfsheet merge -o X.sqlite` wrote for last year's submissions, read
 * once, its documents looked up by template and unit name. */
#ifndef PERFSHEET_PREVIOUS_H
#define PERFSHEET_PREVIOUS_H

#include "perfsheet/document.h"
#include "perfsheet/error.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ps_previous ps_previous;

/* Most documents read from one database: a larger one is refused (PS_ERR_UNSUPPORTED). */
#define PS_PREVIOUS_MAX_DOCUMENTS 100000

/* Opens path read-only and reads every document's field values (numbers and texts, with their
 * source cells). Fails with PS_ERR_IO (cannot open, not a perfsheet database) naming path.
 * Caller owns *out: ps_previous_free(). */
ps_status ps_previous_open(const char *path, ps_previous **out, ps_error *err);
void ps_previous_free(ps_previous *p); /* takes NULL */
const char *ps_previous_path(const ps_previous *p);
size_t ps_previous_count(const ps_previous *p);

/* Last year's document of template_id for unit: the first whose normalised unit name equals
 * unit's (*exact true); failing that, the first whose name differs from unit's only by one 县, 区
 * or 市 left out or exchanged for another (衡阳县医疗保障局 and 衡阳医疗保障局; *exact false). NULL
 * when none. The document's file is last year's path as recorded in the database. */
const ps_document *ps_previous_find(const ps_previous *p, const char *template_id, const char *unit,
                                    bool *exact);

/* The normalised form of a unit name into buf (NUL-terminated; truncated to size): full-width
 * ASCII made half-width, spaces (also full-width and no-break) removed. */
void ps_previous_normalise_unit(const char *unit, char *buf, size_t size);

#endif
