/* numfmt.c - what an Excel number format shows, for both readers: the class of a format code
 * or built-in id, and Excel serial dates to and from ISO text; see numfmt.h. */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "perfsheet/workbook.h"

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

numfmt ps_numfmt_classify(const char *s, size_t n)
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
    numfmt f = {PS_FMT_GENERAL, 255, false};
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

numfmt ps_numfmt_builtin(unsigned id)
{
    numfmt f = {PS_FMT_GENERAL, 255, false};
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

/* Howard Hinnant's civil_from_days / days_from_civil; days are counted from 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool ps_numfmt_serial_iso(double serial, bool with_time, char *buf, size_t size)
{
    if (!(serial >= 0 && serial < 2958466.0)) /* 9999-12-31 is the last Excel date */
        return false;
    double total = floor(serial * 86400.0 + 0.5);
    int64_t days = (int64_t)(total / 86400.0);
    int64_t secs = (int64_t)(total - (double)days * 86400.0);
    char time[16];
    snprintf(time, sizeof time, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
    if (days == 0) { /* Excel's 1900-01-00: a time of day without a date */
        snprintf(buf, size, "%s", time);
        return true;
    }
    int64_t y;
    unsigned m, d;
    if (days == 60) { /* Excel's 1900-02-29, kept as Excel shows it */
        y = 1900, m = 2, d = 29;
    } else {
        civil_from_days(days < 60 ? days - 25568 : days - 25569, &y, &m, &d);
    }
    if (with_time || secs > 0) /* a time the format hides is still part of the value */
        snprintf(buf, size, "%04d-%02u-%02uT%s", (int)y, m, d, time);
    else
        snprintf(buf, size, "%04d-%02u-%02u", (int)y, m, d);
    return true;
}

static bool parse_digits(const char **p, int count, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < count; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return false;
        v = v * 10 + (unsigned)((*p)[i] - '0');
    }
    *p += count;
    *out = v;
    return true;
}

bool ps_numfmt_iso_serial(const char *s, double *serial)
{
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    double frac = 0;
    const char *p = s;
    bool has_date = false;
    if (strlen(p) >= 10 && p[4] == '-') {
        if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) || *p++ != '-' ||
            !parse_digits(&p, 2, &d))
            return false;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1900)
            return false;
        has_date = true;
        if (*p == 'T' || *p == ' ')
            p++;
        else if (*p && *p != 'Z' && *p != '+' && *p != '-')
            return false;
    }
    if (*p >= '0' && *p <= '9') {
        if (!parse_digits(&p, 2, &h) || *p++ != ':' || !parse_digits(&p, 2, &mi))
            return false;
        if (*p == ':') {
            p++;
            if (!parse_digits(&p, 2, &se))
                return false;
            if (*p == '.') {
                double scale = 0.1;
                for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
                    frac += (*p - '0') * scale;
            }
        }
        if (h > 24 || mi > 59 || se > 60)
            return false;
    } else if (!has_date) {
        return false;
    }
    double day_frac = (h * 3600.0 + mi * 60.0 + se + frac) / 86400.0;
    if (!has_date) {
        *serial = day_frac;
        return true;
    }
    int64_t days = days_from_civil(y, mo, d);
    int64_t ser = days + 25569;
    if (ser < 61) /* before 1900-03-01: Excel's phantom leap day shifts nothing before it */
        ser = days + 25568;
    *serial = (double)ser + day_frac;
    return true;
}
