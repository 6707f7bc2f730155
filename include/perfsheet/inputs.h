/* inputs.h - the list of input files of a batch: file arguments as given, directory arguments
 * walked recursively in sorted order, taking .xls/.xlsx/.xlsm/.et by name and other files whose
 * content is an OLE2 or ZIP container; lock files (~$*) and hidden files are skipped and
 * counted. Symlinked directories are followed once (a loop cannot hang the walk). */
#ifndef PERFSHEET_INPUTS_H
#define PERFSHEET_INPUTS_H

#include <stddef.h>

typedef struct ps_inputs {
    char **files; /* owned; in batch order */
    size_t n, cap;
    size_t skipped_lock; /* ~$x.xls */
    size_t skipped_hidden;
    size_t skipped_other; /* neither a spreadsheet name nor container content */
} ps_inputs;

/* Adds path: a file as given (even if it does not exist: its read fails later, reported), or
 * a directory walked. Returns 0, or -1 on out-of-memory. */
int ps_inputs_add(ps_inputs *in, const char *path);
void ps_inputs_free(ps_inputs *in);

#endif
