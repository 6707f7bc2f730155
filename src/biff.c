/* biff.c - BIFF record helpers for the .xls reader: the CONTINUE-aware cursor, RK and IEEE
 * numbers, number-format classification and Excel serial dates. */
#include "biff.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perfsheet/workbook.h"

double biff_f64(const uint8_t *p)
{
    uint64_t bits = (uint64_t)biff_u32(p) | (uint64_t)biff_u32(p + 4) << 32;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

double biff_rk(uint32_t rk)
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

bool biff_cursor_at(biff_cursor *c, const uint8_t *s, size_t size, size_t rec)
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

bool biff_cursor_continue(biff_cursor *c)
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

bool biff_cursor_u8(biff_cursor *c, uint8_t *v)
{
    while (c->pos == c->end)
        if (!biff_cursor_continue(c))
            return false;
    *v = c->s[c->pos++];
    return true;
}

bool biff_cursor_u16(biff_cursor *c, uint16_t *v)
{
    if (c->end - c->pos >= 2) {
        *v = biff_u16(c->s + c->pos);
        c->pos += 2;
        return true;
    }
    uint8_t a, b;
    if (!biff_cursor_u8(c, &a) || !biff_cursor_u8(c, &b))
        return false;
    *v = (uint16_t)(a | b << 8);
    return true;
}

bool biff_cursor_u32(biff_cursor *c, uint32_t *v)
{
    uint16_t lo, hi;
    if (!biff_cursor_u16(c, &lo) || !biff_cursor_u16(c, &hi))
        return false;
    *v = (uint32_t)lo | (uint32_t)hi << 16;
    return true;
}

bool biff_cursor_skip(biff_cursor *c, uint64_t n)
{
    while (n > 0) {
        while (c->pos == c->end)
            if (!biff_cursor_continue(c))
                return false;
        size_t k = c->end - c->pos;
        if (k > n)
            k = (size_t)n;
        c->pos += k;
        n -= k;
    }
    return true;
}

static bool ieq(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if ((s[i] | 0x20) != word[i])
            return false;
    return true;
}

biff_numfmt biff_classify_format(const char *s, size_t n)
{
    bool date = false, time = false, pct = false, at = false, digit = false, general = false;
    bool in_dec = false, dec_done = false;
    unsigned decimals = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_dec && c != '0' && c != '#' && c != '?' && c != ',') {
            in_dec = false;
            dec_done = true;
        }
        switch (c) {
        case '"':
            i++;
            while (i < n && s[i] != '"')
                i++;
            break;
        case '\\':
        case '_':
        case '*':
            i++;
            while (i + 1 < n && ((unsigned char)s[i + 1] & 0xC0) == 0x80)
                i++; /* the escaped character may be multi-byte UTF-8 */
            break;
        case '[': {
            size_t j = i + 1;
            while (j < n && s[j] != ']')
                j++;
            /* [h], [mm], [ss]: elapsed time; anything else is a colour, locale or condition */
            bool elapsed = j > i + 1;
            for (size_t k = i + 1; k < j; k++) {
                char l = (char)(s[k] | 0x20);
                if (l != 'h' && l != 'm' && l != 's')
                    elapsed = false;
            }
            if (elapsed)
                date = time = true;
            i = j;
            break;
        }
        case ';':
            i = n; /* only the first (positive) section */
            break;
        case '%': pct = true; break;
        case '@': at = true; break;
        case '0':
        case '#':
        case '?':
            digit = true;
            if (in_dec)
                decimals++;
            break;
        case '.':
            if (!dec_done && !in_dec)
                in_dec = true;
            break;
        case 'E':
        case 'e':
            if (i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-')) {
                dec_done = true; /* exponent digits are not decimals */
                in_dec = false;
                i++;
            }
            break;
        case 'y':
        case 'Y':
        case 'd':
        case 'D':
        case 'm':
        case 'M': date = true; break;
        case 'h':
        case 'H':
        case 's':
        case 'S': date = time = true; break;
        case 'g':
        case 'G':
            if (ieq(s + i, n - i, "general")) {
                general = true;
                i += 6;
            }
            break;
        case 'a':
        case 'A':
            if (ieq(s + i, n - i, "am/pm"))
                i += 4;
            else if (ieq(s + i, n - i, "a/p"))
                i += 2;
            break;
        default: break;
        }
    }
    biff_numfmt f = {PS_FMT_GENERAL, 255, false};
    if (date) {
        f.cls = PS_FMT_DATE;
        f.has_time = time;
    } else if (pct) {
        f.cls = PS_FMT_PERCENT;
        f.decimals = (uint8_t)(decimals > 254 ? 254 : decimals);
    } else if (digit) {
        f.cls = PS_FMT_NUMBER;
        f.decimals = (uint8_t)(decimals > 254 ? 254 : decimals);
    } else if (at) {
        f.cls = PS_FMT_TEXT;
    }
    (void)general;
    return f;
}

biff_numfmt biff_builtin_format(unsigned id)
{
    biff_numfmt f = {PS_FMT_GENERAL, 255, false};
    switch (id) {
    case 1:
    case 3:
    case 5:
    case 6:
    case 37:
    case 38:
    case 41:
    case 42:
        f.cls = PS_FMT_NUMBER;
        f.decimals = 0;
        break;
    case 2:
    case 4:
    case 7:
    case 8:
    case 11:
    case 39:
    case 40:
    case 43:
    case 44:
        f.cls = PS_FMT_NUMBER;
        f.decimals = 2;
        break;
    case 48:
        f.cls = PS_FMT_NUMBER;
        f.decimals = 1;
        break;
    case 12:
    case 13: f.cls = PS_FMT_NUMBER; break;
    case 9:
        f.cls = PS_FMT_PERCENT;
        f.decimals = 0;
        break;
    case 10:
        f.cls = PS_FMT_PERCENT;
        f.decimals = 2;
        break;
    case 49: f.cls = PS_FMT_TEXT; break;
    default:
        if ((id >= 14 && id <= 17) || (id >= 27 && id <= 31) || (id >= 36 && id <= 36) ||
            (id >= 50 && id <= 54) || (id >= 71 && id <= 81)) {
            f.cls = PS_FMT_DATE;
        } else if ((id >= 18 && id <= 22) || (id >= 32 && id <= 35) || (id >= 45 && id <= 47) ||
                   (id >= 55 && id <= 58)) {
            f.cls = PS_FMT_DATE;
            f.has_time = true;
        } else if ((id >= 59 && id <= 62) || (id >= 67 && id <= 70)) {
            f.cls = PS_FMT_NUMBER;
        }
        break;
    }
    return f;
}

const char *biff_error_text(unsigned code)
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

bool biff_serial_iso(double serial, bool with_time, char *buf, size_t size)
{
    if (!(serial >= 0 && serial < 2958466.0)) /* 9999-12-31 is the last Excel date */
        return false;
    double total = floor(serial * 86400.0 + 0.5);
    long days = (long)(total / 86400.0);
    long secs = (long)(total - (double)days * 86400.0);
    int y, m, d;
    if (days == 60) { /* Excel's 1900-02-29, kept as Excel shows it */
        y = 1900;
        m = 2;
        d = 29;
    } else {
        long z = (days < 60 ? days + 1 : days) - 25569; /* days since 1970-01-01 */
        z += 719468;
        long era = (z >= 0 ? z : z - 146096) / 146097;
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        d = (int)(doy - (153 * mp + 2) / 5 + 1);
        m = (int)(mp < 10 ? mp + 3 : mp - 9);
        y = (int)(yoe + era * 400 + (m <= 2));
    }
    if (with_time)
        snprintf(buf, size, "%04d-%02d-%02dT%02ld:%02ld:%02ld", y, m, d, secs / 3600, secs / 60 % 60,
                 secs % 60);
    else
        snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
    return true;
}
