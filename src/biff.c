/* biff.c - BIFF record helpers for the .xls reader: the CONTINUE-aware cursor, RK and IEEE
 * numbers, error literals. (Number formats and serial dates: numfmt.c.) */
#include "biff.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perfsheet/workbook.h"

double ps_biff_f64(const uint8_t *p)
{
    uint64_t bits = (uint64_t)biff_u32(p) | (uint64_t)biff_u32(p + 4) << 32;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

double ps_biff_rk(uint32_t rk)
{
    double v;
    if (rk & 2) {
        v = (double)((int32_t)(rk & 0xFFFFFFFCu) / 4);
    } else {
        uint64_t bits = (uint64_t)(rk & 0xFFFFFFFCu) << 32;
        memcpy(&v, &bits, sizeof v);
    }
    if (rk & 1)
        v /= 100;
    return v;
}

bool ps_biff_cursor_at(biff_cursor *c, const uint8_t *s, size_t size, size_t rec)
{
    if (rec > size || size - rec < 4)
        return false;
    size_t len = biff_u16(s + rec + 2);
    if (size - rec - 4 < len)
        return false;
    c->s = s;
    c->size = size;
    c->pos = rec + 4;
    c->end = c->pos + len;
    return true;
}

bool ps_biff_cursor_continue(biff_cursor *c)
{
    if (c->size - c->end < 4)
        return false;
    const uint8_t *h = c->s + c->end;
    size_t len = biff_u16(h + 2);
    if (biff_u16(h) != BIFF_CONTINUE || c->size - c->end - 4 < len)
        return false;
    c->pos = c->end + 4;
    c->end = c->pos + len;
    return true;
}

bool ps_biff_cursor_u8(biff_cursor *c, uint8_t *v)
{
    while (c->pos == c->end)
        if (!ps_biff_cursor_continue(c))
            return false;
    *v = c->s[c->pos++];
    return true;
}

bool ps_biff_cursor_u16(biff_cursor *c, uint16_t *v)
{
    if (c->end - c->pos >= 2) {
        *v = biff_u16(c->s + c->pos);
        c->pos += 2;
        return true;
    }
    uint8_t a, b;
    if (!ps_biff_cursor_u8(c, &a) || !ps_biff_cursor_u8(c, &b))
        return false;
    *v = (uint16_t)(a | b << 8);
    return true;
}

bool ps_biff_cursor_u32(biff_cursor *c, uint32_t *v)
{
    uint16_t lo, hi;
    if (!ps_biff_cursor_u16(c, &lo) || !ps_biff_cursor_u16(c, &hi))
        return false;
    *v = (uint32_t)lo | (uint32_t)hi << 16;
    return true;
}

bool ps_biff_cursor_skip(biff_cursor *c, uint64_t n)
{
    while (n > 0) {
        while (c->pos == c->end)
            if (!ps_biff_cursor_continue(c))
                return false;
        size_t k = c->end - c->pos;
        if (k > n)
            k = (size_t)n;
        c->pos += k;
        n -= k;
    }
    return true;
}

const char *ps_biff_error_text(unsigned code)
{
    switch (code) {
    case 0x00: return "#NULL!";
    case 0x07: return "#DIV/0!";
    case 0x0F: return "#VALUE!";
    case 0x17: return "#REF!";
    case 0x1D: return "#NAME?";
    case 0x24: return "#NUM!";
    case 0x2A: return "#N/A";
    case 0x2B: return "#GETTING_DATA";
    default: return "#ERR!";
    }
}
