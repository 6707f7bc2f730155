/* bench_read.c - the reader alone: open each file with ps_reader_open and touch every cell, as
 * ../shared/bench/limit.c does with bare freexl. usage: bench_read FILE... */
#include "perfsheet/reader.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    long cells = 0, formulas = 0, merges = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        ps_workbook *wb = NULL;
        ps_error err;
        if (ps_reader_open(argv[i], NULL, &wb, &err) != PS_OK) {
            bad++;
            continue;
        }
        for (size_t s = 0; s < ps_workbook_sheet_count(wb); s++) {
            const ps_sheet *sh = ps_workbook_sheet(wb, s);
            const ps_cell *c = ps_sheet_cells(sh);
            for (size_t k = 0; k < ps_sheet_cell_count(sh); k++) {
                cells++;
                formulas += c[k].formula;
            }
            merges += (long)ps_sheet_merge_count(sh);
        }
        ps_workbook_free(wb);
    }
    printf("{\"cells\": %ld, \"formulas\": %ld, \"merges\": %ld, \"unreadable\": %d}\n", cells, formulas,
           merges, bad);
    return 0;
}
