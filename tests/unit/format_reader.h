/* format_reader.h - for the reader tests: a format reader (ps_reader_open_xls/_xlsx) run on a
 * file's bytes, as ps_reader_open hands them over, without ps_reader_open's sniffing. Header-only;
 * include after cmocka.h and perfsheet/reader.h. */
#ifndef PS_TEST_FORMAT_READER_H
#define PS_TEST_FORMAT_READER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef ps_status (*format_reader)(const char *path, uint8_t *data, size_t len, const ps_limits *limits,
                                   ps_workbook **out, ps_error *err);

/* Reads path and gives its bytes to reader (which takes them); a file that cannot be read is
 * ps_reader_open's to report. */
static inline ps_status open_with(format_reader reader, const char *path, const ps_limits *lim,
                                  ps_workbook **wb, ps_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ps_reader_open(path, lim, wb, err);
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (size_t got = 1; got;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            data = realloc(data, cap);
            assert_non_null(data);
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
    }
    fclose(f);
    return reader(path, data, len, lim, wb, err);
}

#endif
