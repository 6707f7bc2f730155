/* numfmt.h - what an Excel number format shows, shared by the .xls and .xlsx readers: the
 * class of a format code or of a built-in format id (so both readers agree on every id,
 * the Chinese, Japanese, Korean and Thai locales' date ids included), and Excel serial
 * dates (1900 system, with its phantom 1900-02-29) to and from ISO text. */
#ifndef PERFSHEET_NUMFMT_H
#define PERFSHEET_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct numfmt {
    uint8_t cls;      /* ps_format_class */
    uint8_t decimals; /* decimals shown; 255 when not a fixed count */
    bool has_time;    /* a date format showing hours, minutes or seconds */
} numfmt;

/* Classifies a format code (UTF-8, n bytes), first section only: y/m/d/h/s outside quotes and
 * brackets (or elapsed [h] [mm] [ss]) → date; % → percent; 0 # ? → number, with the
 * placeholders after '.' as decimals; @ alone → text; anything else → general. */
numfmt ps_numfmt_classify(const char *code, size_t n);

/* The class of a built-in format id (0-163) that no FORMAT record or numFmt defines. */
numfmt ps_numfmt_builtin(unsigned id);

/* Writes an Excel serial as ISO text: "2022-04-25", or "2022-04-25T08:30:00" when it has a time
 * of day or with_time (a format showing time: midnight too), and a serial below 1 (a time of
 * day alone) as "08:30:00". The value is written whole, whatever the format hides. False when
 * out of Excel's range (before 1900 or after 9999-12-31). */
bool ps_numfmt_serial_iso(double serial, bool with_time, char *buf, size_t size);

/* Parses "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±hh:mm]" or "HH:MM[:SS]" (an xlsx t="d" cell) into
 * an Excel serial. False when s is not such a date. */
bool ps_numfmt_iso_serial(const char *s, double *serial);

#endif
