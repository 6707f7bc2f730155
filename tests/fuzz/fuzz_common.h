/* fuzz_common.h - shared by the fuzz targets: the spreadsheet pipeline a submitted file goes
 * through (read, detect and extract with the built-in mappings, run their checks), and the
 * per-process temporary file the readers need (ps_reader_open takes a path). */
#ifndef PS_FUZZ_COMMON_H
#define PS_FUZZ_COMMON_H

#include "perfsheet/check.h"
#include "perfsheet/document.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"
#include "perfsheet/workbook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The built-in mappings and their checker, made once per process (owned for its lifetime). */
static ps_mapping_set *fuzz_set;
static ps_checker *fuzz_checker;

static inline void fuzz_init_mappings(void)
{
    if (fuzz_set)
        return;
    ps_error err;
    if (ps_mapping_set_load(NULL, &fuzz_set, &err) || ps_checker_new(fuzz_set, &fuzz_checker, &err)) {
        fprintf(stderr, "fuzz: built-in mappings do not load: %s\n", err.message);
        abort();
    }
}

/* Touches every byte a workbook hands out, so a dangling or unterminated string shows. */
static inline size_t fuzz_walk_workbook(const ps_workbook *wb)
{
    size_t sum = (size_t)ps_workbook_format(wb) + (size_t)ps_workbook_codepage(wb);
    for (size_t s = 0; s < ps_workbook_sheet_count(wb); s++) {
        const ps_sheet *sh = ps_workbook_sheet(wb, s);
        sum += strlen(ps_sheet_name(sh)) + ps_sheet_rows(sh) + ps_sheet_cols(sh);
        const ps_cell *cells = ps_sheet_cells(sh);
        for (size_t i = 0; i < ps_sheet_cell_count(sh); i++) {
            const ps_cell *c = &cells[i];
            if (c->text)
                sum += strlen(c->text);
            if (c->row >= ps_sheet_rows(sh) || c->col >= ps_sheet_cols(sh))
                abort(); /* a cell outside the sheet's dimensions */
            if (ps_sheet_cell(sh, c->row, c->col) != c)
                abort(); /* the lookup disagrees with the cell list */
            sum += ps_sheet_cell_shown(sh, c->row, c->col) != NULL;
        }
        const ps_range *m = ps_sheet_merges(sh);
        for (size_t i = 0; i < ps_sheet_merge_count(sh); i++)
            sum += ps_sheet_merge_at(sh, m[i].first_row, m[i].first_col) != NULL;
    }
    return sum;
}

/* Detection, extraction and checks on a workbook read from a hostile file. */
static inline void fuzz_pipeline(const ps_workbook *wb)
{
    fuzz_init_mappings();
    ps_document **docs = NULL;
    size_t ndocs = 0;
    ps_error err;
    if (ps_mapping_extract_workbook(fuzz_set, wb, "fuzz", &docs, &ndocs, &err) == PS_OK) {
        for (size_t i = 0; i < ndocs; i++)
            ps_checker_check_document(fuzz_checker, docs[i], &err);
        ps_checker_check_cross(fuzz_checker, docs, ndocs, &err);
        for (size_t i = 0; i < ndocs; i++)
            ps_document_free(docs[i]);
        free(docs);
    }
}

/* Writes data to this process's temporary file (made once, rewritten each time) and returns
 * its path, or NULL when it cannot. suffix: ".xls" or ".xlsx" (the readers ignore it). */
static char fuzz_path[256];

static inline void fuzz_remove_temp(void)
{
    if (fuzz_path[0])
        unlink(fuzz_path);
}

static inline const char *fuzz_temp_file(const char *suffix, const uint8_t *data, size_t size)
{
    char *path = fuzz_path;
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof fuzz_path, "%s/perfsheet-fuzz-%ld%s", dir, (long)getpid(), suffix);
        atexit(fuzz_remove_temp);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || n != size)
        return NULL;
    return path;
}

/* The whole path of one spreadsheet file. */
static inline void fuzz_spreadsheet(const char *suffix, const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_file(suffix, data, size);
    if (!path)
        return;
    ps_workbook *wb = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_reader_open(path, NULL, &wb, &err) == PS_OK) {
        volatile size_t sink = fuzz_walk_workbook(wb);
        (void)sink;
        fuzz_pipeline(wb);
        ps_workbook_free(wb);
    } else if (!err.message[0]) {
        abort(); /* every failure must say why */
    }
}

#endif
