/* error.h - errors as values with a location: returned by library code, printed only by cli.c.
 * Codes mirror the JSON contract of spec/cli.md (encrypted, corrupt, not_a_spreadsheet,
 * unsupported, io, no_template) plus the library's own (mapping, rule_syntax, nomem, limit). */
#ifndef PERFSHEET_ERROR_H
#define PERFSHEET_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum ps_status {
    PS_OK = 0,
    PS_ERR_IO,                /* the file could not be opened or read */
    PS_ERR_NOT_A_SPREADSHEET, /* empty file, random bytes */
    PS_ERR_UNSUPPORTED, /* a real file of another kind (HTML, CSV, XML 2003, ODS, …) or beyond a limit */
    PS_ERR_CORRUPT,     /* a spreadsheet container that is truncated or malformed */
    PS_ERR_ENCRYPTED,   /* password-protected */
    PS_ERR_NO_TEMPLATE, /* no mapping matches the workbook */
    PS_ERR_MAPPING,     /* a mapping file is invalid */
    PS_ERR_RULE_SYNTAX, /* an audit rule does not parse */
    PS_ERR_USAGE,       /* bad command line */
    PS_ERR_NOMEM,
} ps_status;

typedef struct ps_error {
    ps_status code;
    char file[512], sheet[64], cell[16]; /* copies: the error outlives the reader */
    int line, col;                       /* 1-based in mapping/rule text, else 0 */
    char message[512];                   /* Chinese: what was expected, what was found */
    /* characters of the culprit token from col (the caret's length), 0 unknown */
    int span;
} ps_error;

/* The JSON code of a status ("corrupt", "no_template", …). Never NULL. */
const char *ps_error_code_name(ps_status code);

/* Clears *err (code PS_OK, empty strings). err may be NULL. */
void ps_error_clear(ps_error *err);

/* Fills *err (when err is not NULL) with code, file and a printf-style message; returns code.
 * file may be NULL. */
ps_status ps_error_set(ps_error *err, ps_status code, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ps_status ps_error_setv(ps_error *err, ps_status code, const char *file, const char *fmt, va_list ap);

/* As ps_error_set, with a sheet and A1 cell (either may be NULL). */
ps_status ps_error_at_cell(ps_error *err, ps_status code, const char *file, const char *sheet,
                           const char *cell, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* As ps_error_set, with a 1-based line and column in a text file (mapping, rules). */
ps_status ps_error_at_line(ps_error *err, ps_status code, const char *file, int line, int col,
                           const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Formats the location the way cli.c prints it: "file:sheet!cell", "file:line:col" or "file". */
void ps_error_location(const ps_error *err, char *buf, size_t size);

#endif
