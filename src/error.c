/* error.c - filling and naming ps_error values. */
#include "perfsheet/error.h"

#include <stdio.h>
#include <string.h>

const char *ps_error_code_name(ps_status code)
{
    switch (code) {
    case PS_OK: return "ok";
    case PS_ERR_IO: return "io";
    case PS_ERR_NOT_A_SPREADSHEET: return "not_a_spreadsheet";
    case PS_ERR_UNSUPPORTED: return "unsupported";
    case PS_ERR_CORRUPT: return "corrupt";
    case PS_ERR_ENCRYPTED: return "encrypted";
    case PS_ERR_NO_TEMPLATE: return "no_template";
    case PS_ERR_MAPPING: return "mapping";
    case PS_ERR_RULE_SYNTAX: return "rule_syntax";
    case PS_ERR_USAGE: return "usage";
    case PS_ERR_NOMEM: return "nomem";
    }
    return "unknown";
}

void ps_error_clear(ps_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

ps_status ps_error_setv(ps_error *err, ps_status code, const char *file, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    memset(err, 0, sizeof *err);
    err->code = code;
    copy_str(err->file, sizeof err->file, file);
    char msg[sizeof err->message * 2];
    vsnprintf(msg, sizeof msg, fmt, ap);
    copy_str(err->message, sizeof err->message, msg);
    return code;
}

ps_status ps_error_set(ps_error *err, ps_status code, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_error_setv(err, code, file, fmt, ap);
    va_end(ap);
    return code;
}

ps_status ps_error_at_cell(ps_error *err, ps_status code, const char *file, const char *sheet,
                           const char *cell, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_error_setv(err, code, file, fmt, ap);
    va_end(ap);
    if (err) {
        copy_str(err->sheet, sizeof err->sheet, sheet);
        copy_str(err->cell, sizeof err->cell, cell);
    }
    return code;
}

ps_status ps_error_at_line(ps_error *err, ps_status code, const char *file, int line, int col,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_error_setv(err, code, file, fmt, ap);
    va_end(ap);
    if (err) {
        err->line = line;
        err->col = col;
    }
    return code;
}

void ps_error_location(const ps_error *err, char *buf, size_t size)
{
    if (err->line > 0)
        snprintf(buf, size, "%s:%d:%d", err->file, err->line, err->col);
    else if (err->sheet[0] && err->cell[0])
        snprintf(buf, size, "%s:%s!%s", err->file, err->sheet, err->cell);
    else if (err->sheet[0])
        snprintf(buf, size, "%s:%s", err->file, err->sheet);
    else
        snprintf(buf, size, "%s", err->file);
}
