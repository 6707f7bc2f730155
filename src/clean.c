/* clean.c - turning what people type into numbers, dates, years and comparable labels.
 *
 * Every function walks its input once, byte by byte, and never reads past the NUL: a UTF-8
 * sequence is taken whole only when all its continuation bytes are there, otherwise its lead
 * byte counts as one opaque byte. Nothing here allocates or keeps state, so every function
 * may run on every cell of every file from any thread. Numbers are built from their digits
 * (not strtod, which depends on the locale): a mantissa below 2^53 divided by an exact power
 * of ten gives the double nearest to what was typed ("99.6%" -> 996 / 1000 -> 0.996). */
#include "perfsheet/clean.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- UTF-8 ---------------------------------------------------------------------------- */

/* Length of the sequence at s (s[0] != 0): 1 for ASCII, for a stray continuation byte, an
 * invalid lead byte or a sequence cut short (the NUL stops the check); else 2..4. */
static inline size_t seq_len(const unsigned char *s)
{
    size_t n;
    if (s[0] < 0x80)
        return 1;
    else if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4;
    else
        return 1;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* The code point at s and its length; an opaque byte decodes as 0xFFFD. */
static inline uint32_t decode(const unsigned char *s, size_t *len)
{
    size_t n = seq_len(s);
    *len = n;
    switch (n) {
    case 1: return s[0] < 0x80 ? s[0] : 0xFFFD;
    case 2: return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    case 3: return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    default:
        return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
               (s[3] & 0x3F);
    }
}

/* Bytes of the space at s, or 0: ASCII blanks and line breaks, U+00A0, U+3000. */
static inline size_t space_at(const unsigned char *s)
{
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f')
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* Bytes of a space that may group digits ("5 578.66"): one space, U+00A0 or U+3000. */
static size_t group_space_at(const unsigned char *s)
{
    if (s[0] == ' ')
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* Skips spaces; *seen is set when any was skipped. */
static const unsigned char *skip_spaces(const unsigned char *p, bool *seen)
{
    size_t n;
    while ((n = space_at(p)) > 0) {
        p += n;
        if (seen)
            *seen = true;
    }
    return p;
}

/* The digit at p (ASCII or full-width U+FF10..U+FF19) or -1; *len its bytes, *wide set for
 * a full-width one. */
static int digit_at(const unsigned char *p, size_t *len, bool *wide)
{
    if (p[0] >= '0' && p[0] <= '9') {
        *len = 1;
        return p[0] - '0';
    }
    if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) {
        *len = 3;
        *wide = true;
        return p[2] - 0x90;
    }
    return -1;
}

/* The ASCII character c or its full-width form (U+FF01..U+FF5E) at p: bytes matched or 0. */
static size_t ascii_at(const unsigned char *p, char c, bool *wide)
{
    if (p[0] == (unsigned char)c)
        return 1;
    uint32_t cp = 0xFF01 + (uint32_t)(c - '!'); /* full-width form of c */
    if (c > ' ' && c < 0x7F && p[0] == 0xEF && p[1] == (0x80 | ((cp >> 6) & 0x3F)) &&
        p[2] == (0x80 | (cp & 0x3F))) {
        *wide = true;
        return 3;
    }
    return 0;
}

/* Copies n bytes if they fit before the NUL slot; false when out is full. */
static bool put(char *out, size_t size, size_t *w, const unsigned char *src, size_t n)
{
    if (*w + n + 1 > size)
        return false;
    memcpy(out + *w, src, n);
    *w += n;
    return true;
}

/* ---- numbers -------------------------------------------------------------------------- */

static const char MSG_SPACES[] = "已去除空格";
static const char MSG_WIDE[] = "全角字符已转换";
static const char MSG_THOUSANDS[] = "已去除千位分隔符";
static const char MSG_PERCENT[] = "百分数已换算为小数";
static const char MSG_DOUBLE_PERCENT[] = "百分号重复";
static const char MSG_BAD[] = "无法识别的数值";
static const char MSG_COMPARATOR[] = "数值前带比较符，不是确定的数值";
static const char MSG_RATE_TEXT[] = "比率以文本录入";
static const char MSG_RATE_HUNDRED[] = "比率以百分数录入（如 99.6 应为 99.6%）";

/* Units accepted after a number, each with the note saying it was dropped. The number keeps
 * its value: "760.35万元" is 760.35 (money is in 万元), "1.8067万人" is 1.8067. */
static const struct {
    const char *unit, *message;
} units[] = {
    {"万元", "已去除单位“万元”"}, {"元", "已去除单位“元”"},     {"万人次", "已去除单位“万人次”"},
    {"万人", "已去除单位“万人”"}, {"人次", "已去除单位“人次”"}, {"人", "已去除单位“人”"},
    {"个", "已去除单位“个”"},     {"分", "已去除单位“分”"},     {"次", "已去除单位“次”"},
    {"户", "已去除单位“户”"},     {"家", "已去除单位“家”"},     {"项", "已去除单位“项”"},
    {"件", "已去除单位“件”"},     {"天", "已去除单位“天”"},     {"日", "已去除单位“日”"},
    {"份", "已去除单位“份”"},     {"辆", "已去除单位“辆”"},     {"台", "已去除单位“台”"},
    {"所", "已去除单位“所”"},     {"条", "已去除单位“条”"},     {"个月", "已去除单位“个月”"},
};

/* Comparators before a number, longest spelling first within a shared prefix. */
static const struct {
    const char *typed, *as;
} comparators[] = {
    {">=", "≥"},     {"<=", "≤"},     {"＞＝", "≥"},     {"＜＝", "≤"},   {"≥", "≥"},        {"≧", "≥"},
    {"⩾", "≥"},      {"≤", "≤"},      {"≦", "≤"},        {"⩽", "≤"},      {">", ">"},        {"<", "<"},
    {"＞", ">"},     {"＜", "<"},     {"=", "="},        {"＝", "="},     {"大于等于", "≥"}, {"不低于", "≥"},
    {"不少于", "≥"}, {"不小于", "≥"}, {"小于等于", "≤"}, {"不超过", "≤"}, {"不高于", "≤"},   {"不大于", "≤"},
    {"不多于", "≤"}, {"大于", ">"},   {"高于", ">"},     {"超过", ">"},   {"小于", "<"},     {"低于", "<"},
};

/* Everything one pass over a number-like text found. */
typedef struct scan {
    bool blank;  /* only spaces */
    bool number; /* the whole text is [cmp] [sign] digits [%...] [unit] */
    bool negative;
    double mant;       /* the digits without the point, exact below 2^53 */
    unsigned decimals; /* digits after the point */
    unsigned percents; /* % signs after the number */
    const char *cmp;   /* normalised comparator or NULL */
    const char *unit;  /* the unit's note or NULL */
    bool spaces, wide, thousands;
} scan;

static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static double pow10_of(unsigned k)
{
    return k < sizeof exact_pow10 / sizeof exact_pow10[0] ? exact_pow10[k] : pow(10.0, (double)k);
}

static const unsigned char *match_prefix(const unsigned char *p, const char *lit)
{
    if (p[0] != (unsigned char)lit[0]) /* most calls end here */
        return NULL;
    size_t n = strlen(lit);
    return strncmp((const char *)p, lit, n) == 0 ? p + n : NULL;
}

/* The value of the scanned digits divided by 10^(decimals + extra): a mantissa below 2^53
 * over an exact power of ten rounds once, so "99.6%" gives the double nearest 0.996. */
static double scan_value(const scan *s, unsigned extra)
{
    double v = s->mant / pow10_of(s->decimals + extra);
    if (v == 0)
        return 0.0; /* no -0 */
    return s->negative ? -v : v;
}

/* Reads [spaces] [comparator] [spaces] [sign] digits [. digits] [spaces] [%...] [unit]
 * [spaces] and nothing else. Digit groups of three may be split by "," "，" "、" or one
 * space ("5 578.66"), the same separator throughout, in the integer part only. */
static scan scan_number(const char *text)
{
    scan s = {0};
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    p = skip_spaces(p, &s.spaces);
    if (!*p) {
        s.blank = true;
        return s;
    }
    for (size_t i = 0; i < sizeof comparators / sizeof comparators[0]; i++) {
        const unsigned char *q = match_prefix(p, comparators[i].typed);
        if (q) {
            s.cmp = comparators[i].as;
            p = skip_spaces(q, NULL);
            break;
        }
    }
    size_t n;
    if ((n = ascii_at(p, '-', &s.wide)) > 0 || (n = match_prefix(p, "−") ? 3 : 0) > 0)
        s.negative = true;
    else
        n = ascii_at(p, '+', &s.wide);
    p += n;

    uint64_t mant = 0; /* exact while below 2^53 */
    double approx = 0; /* takes over when mant would pass 2^53 */
    bool exact = true;
    unsigned int_digits = 0, frac_digits = 0, group = 0;
    int sep_kind = 0; /* 1 comma, 2 space */
    bool bad_groups = false, fraction = false;
    for (;;) {
        size_t len, sl;
        bool wide = false, dummy = false;
        int d = digit_at(p, &len, &s.wide);
        if (d >= 0) {
            if (exact && mant < ((UINT64_C(1) << 53) - 9) / 10) {
                mant = mant * 10 + (uint64_t)d;
            } else {
                if (exact)
                    approx = (double)mant;
                exact = false;
                approx = approx * 10 + d;
            }
            if (fraction) {
                frac_digits++;
            } else {
                int_digits++;
                group++;
            }
            p += len;
            continue;
        }
        if (fraction)
            break;
        if ((sl = ascii_at(p, '.', &wide)) > 0 && (int_digits > 0 || digit_at(p + sl, &len, &dummy) >= 0)) {
            fraction = true;
            s.wide |= wide;
            p += sl;
            continue;
        }
        if (int_digits == 0)
            break;
        int kind = 0;
        if ((sl = ascii_at(p, ',', &wide)) > 0)
            kind = 1;
        else if ((sl = match_prefix(p, "、") ? 3 : 0) > 0)
            kind = 1, wide = true;
        else if ((sl = group_space_at(p)) > 0)
            kind = 2;
        if (kind && digit_at(p + sl, &len, &dummy) >= 0) {
            if (sep_kind == 0 ? group > 3 : (kind != sep_kind || group != 3))
                bad_groups = true;
            sep_kind = kind;
            group = 0;
            s.thousands = true;
            s.wide |= wide;
            p += sl;
            continue;
        }
        break;
    }
    if (int_digits + frac_digits == 0 || bad_groups || (sep_kind && group != 3))
        return s;

    p = skip_spaces(p, &s.spaces);
    while ((n = ascii_at(p, '%', &s.wide)) > 0) {
        s.percents++;
        p = skip_spaces(p + n, &s.spaces);
    }
    if (s.percents == 0) {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            const unsigned char *q = match_prefix(p, units[i].unit);
            if (q && !*skip_spaces(q, NULL)) {
                s.unit = units[i].message;
                p = q;
                break;
            }
        }
    }
    p = skip_spaces(p, &s.spaces);
    s.mant = exact ? (double)mant : approx;
    s.decimals = frac_digits;
    if (*p || !isfinite(scan_value(&s, 0)))
        return s;
    s.number = true;
    return s;
}

/* Raises c's note to (note, message) when that is more severe, or as severe and ranked higher
 * (the caller passes notes from least to most telling). */
static void note(ps_cleaned *c, ps_clean_note level, const char *message)
{
    if (level >= c->note) {
        c->note = level;
        c->message = message;
    }
}

/* The INFO notes a number may carry, least telling first: the last one present gives the
 * message. */
static void note_normalised(ps_cleaned *c, const scan *s, bool percent_and_unit)
{
    if (s->spaces)
        note(c, PS_CLEAN_INFO, MSG_SPACES);
    if (percent_and_unit && s->percents)
        note(c, PS_CLEAN_INFO, MSG_PERCENT);
    if (percent_and_unit && s->unit)
        note(c, PS_CLEAN_INFO, s->unit);
    if (s->thousands)
        note(c, PS_CLEAN_INFO, MSG_THOUSANDS);
    if (s->wide)
        note(c, PS_CLEAN_INFO, MSG_WIDE);
    if (s->percents > 1)
        note(c, PS_CLEAN_WARNING, MSG_DOUBLE_PERCENT);
}

static ps_cleaned from_scan(const scan *s)
{
    ps_cleaned c = {0};
    c.ok = true;
    c.number = scan_value(s, s->percents ? 2 : 0);
    c.percent = s->percents > 0;
    c.decimals = s->decimals;
    if (s->cmp)
        memcpy(c.comparator, s->cmp, strlen(s->cmp) + 1);
    return c;
}

/* ps_clean_number and ps_clean_rate_text share everything but the rate's notes. */
static ps_cleaned number_from_text(const char *text, bool rate)
{
    scan s = scan_number(text);
    ps_cleaned c = {0};
    if (s.blank)
        return c;
    if (!s.number) {
        note(&c, PS_CLEAN_WARNING, MSG_BAD);
        return c;
    }
    c = from_scan(&s);
    note_normalised(&c, &s, true);
    if (s.cmp) {
        /* "≥98%" where a value belongs is a bound, not a value: not ok, the comparator says why */
        c.ok = false;
        c.number = 0;
        note(&c, PS_CLEAN_WARNING, MSG_COMPARATOR);
        return c;
    }
    if (rate && c.percent) {
        if (s.percents == 1)
            note(&c, PS_CLEAN_WARNING, MSG_RATE_TEXT);
    } else if (rate && c.number > 1.5) {
        c.number = scan_value(&s, 2);
        note(&c, PS_CLEAN_WARNING, MSG_RATE_HUNDRED);
    }
    return c;
}

ps_cleaned ps_clean_number(const char *text)
{
    return number_from_text(text, false);
}

ps_cleaned ps_clean_rate_text(const char *text)
{
    return number_from_text(text, true);
}

ps_cleaned ps_clean_rate_number(double number)
{
    ps_cleaned c = {0};
    if (!isfinite(number)) {
        note(&c, PS_CLEAN_WARNING, MSG_BAD);
        return c;
    }
    c.ok = true;
    c.number = number;
    if (number > 1.5) {
        c.number = number / 100;
        note(&c, PS_CLEAN_WARNING, MSG_RATE_HUNDRED);
    }
    return c;
}

ps_cleaned ps_clean_target(const char *text)
{
    scan s = scan_number(text);
    if (!s.number)
        return (ps_cleaned){0};
    ps_cleaned c = from_scan(&s);
    note_normalised(&c, &s, false);
    return c;
}

/* ---- text ----------------------------------------------------------------------------- */

/* An ASCII blank or line break (the one-byte spaces of space_at). */
static bool ascii_space(unsigned char b)
{
    return b == ' ' || (b >= '\t' && b <= '\r');
}

size_t ps_clean_trim(const char *text, char *out, size_t size)
{
    if (!out || size == 0)
        return 0;
    out[0] = '\0';
    if (!text)
        return 0;
    const unsigned char *p = skip_spaces((const unsigned char *)text, NULL);
    const unsigned char *end = p;
    for (const unsigned char *q = p; *q;) {
        if (*q < 0x80) { /* ASCII: one byte, a space or not */
            if (!ascii_space(*q++))
                end = q;
            continue;
        }
        if (*q >= 0xE4 && *q <= 0xE9 && (q[1] & 0xC0) == 0x80 && (q[2] & 0xC0) == 0x80) {
            q += 3; /* U+4000..U+9FFF: no space there */
            end = q;
            continue;
        }
        size_t sp = space_at(q);
        if (sp) {
            q += sp;
            continue;
        }
        q += seq_len(q);
        end = q;
    }
    size_t len = (size_t)(end - p);
    if (len < size && !memchr(p, '\r', len)) { /* the usual case: one copy */
        memcpy(out, p, len);
        out[len] = '\0';
        return len;
    }
    size_t w = 0;
    while (p < end) {
        if (*p == '\r') {
            if (!put(out, size, &w, (const unsigned char *)"\n", 1))
                break;
            p += p[1] == '\n' ? 2 : 1;
            continue;
        }
        size_t n = seq_len(p);
        if (!put(out, size, &w, p, n))
            break;
        p += n;
    }
    out[w] = '\0';
    return w;
}

size_t ps_clean_label(const char *text, char *out, size_t size)
{
    if (!out || size == 0)
        return 0;
    out[0] = '\0';
    if (!text)
        return 0;
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        if (*p < 0x80) { /* ASCII: dropped when a space, else kept as is */
            if (!ascii_space(*p)) {
                if (w + 2 > size)
                    break;
                out[w++] = (char)*p;
            }
            p++;
            continue;
        }
        if (*p >= 0xE4 && *p <= 0xE9 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            /* U+4000..U+9FFF, most of a Chinese label: kept as they are */
            if (w + 4 > size)
                break;
            memcpy(out + w, p, 3);
            w += 3;
            p += 3;
            continue;
        }
        if (*p >= 0xE0 && *p <= 0xEF && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            /* other three bytes: full-width forms, U+3000 and the other spaces */
            uint32_t cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
            if (cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0xFEFF || cp == 0x202F) {
                p += 3;
                continue;
            }
            if (cp >= 0xFF01 && cp <= 0xFF5E) {
                if (w + 2 > size)
                    break;
                out[w++] = (char)(cp - 0xFEE0);
            } else {
                if (w + 4 > size)
                    break;
                out[w++] = (char)p[0];
                out[w++] = (char)p[1];
                out[w++] = (char)p[2];
            }
            p += 3;
            continue;
        }
        size_t n = space_at(p);
        if (n) {
            p += n;
            continue;
        }
        uint32_t cp = decode(p, &n);
        if ((cp >= 0x2000 && cp <= 0x200B) || cp == 0xFEFF || cp == 0x202F) { /* other spaces, BOM */
            p += n;
            continue;
        }
        if (cp >= 0xFF01 && cp <= 0xFF5E) { /* full-width ASCII form */
            if (w + 2 > size)
                break;
            out[w++] = (char)(cp - 0xFEE0);
        } else {
            if (w + n + 1 > size)
                break;
            for (size_t i = 0; i < n; i++)
                out[w++] = (char)p[i];
        }
        p += n;
    }
    /* a label doubled by a page break (「产出指标产出指标」): one copy, when both halves are the
     * same text of at least two Chinese characters */
    if (w >= 12 && w % 2 == 0 && (unsigned char)out[0] >= 0xE0 && !memcmp(out, out + w / 2, w / 2))
        w /= 2;
    out[w] = '\0';
    return w;
}

bool ps_clean_is_blank(const char *text)
{
    if (!text)
        return true;
    return *skip_spaces((const unsigned char *)text, NULL) == '\0';
}

/* ---- dates ---------------------------------------------------------------------------- */

/* Reads the digits (ASCII or full-width) at *pp, keeping the first max in *value; returns
 * how many there were, up to max + 1 (so the caller can tell a run too long). */
static unsigned read_digits(const unsigned char **pp, unsigned max, int *value)
{
    unsigned count = 0;
    int v = 0;
    size_t len;
    bool wide = false;
    for (int d; count <= max && (d = digit_at(*pp, &len, &wide)) >= 0; count++) {
        if (count < max)
            v = v * 10 + d;
        *pp += len;
    }
    *value = v;
    return count;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dim[m - 1];
}

static bool write_date(int y, int m, int d, char *out, size_t size)
{
    if (!out || size < 11 || y < 1 || y > 9999)
        return false;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
    return true;
}

/* The separator at p: '-', '/', '.' (or full-width forms) give that character, 年 gives 'y',
 * 月 'm'; *len its bytes. 0 when none. */
static char date_sep(const unsigned char *p, size_t *len)
{
    static const char seps[] = "-/.";
    bool wide = false;
    for (int i = 0; seps[i]; i++)
        if ((*len = ascii_at(p, seps[i], &wide)) > 0)
            return seps[i];
    if (match_prefix(p, "年")) {
        *len = 3;
        return 'y';
    }
    if (match_prefix(p, "月")) {
        *len = 3;
        return 'm';
    }
    return 0;
}

bool ps_clean_date(const char *text, char *out, size_t size)
{
    if (!text || !out || size < 11)
        return false;
    const unsigned char *p = skip_spaces((const unsigned char *)text, NULL);
    /* a label before the date ("填报时间：2022年4月15日") ends with a colon */
    const unsigned char *after_colon = NULL;
    for (const unsigned char *q = p; *q;) {
        size_t len;
        bool wide = false;
        if (digit_at(q, &len, &wide) >= 0)
            break;
        if ((len = ascii_at(q, ':', &wide)) > 0)
            after_colon = q + len;
        else
            len = seq_len(q);
        q += len;
    }
    if (after_colon)
        p = skip_spaces(after_colon, NULL);

    int y, m, d;
    size_t len;
    if (read_digits(&p, 4, &y) != 4)
        return false;
    char sep = date_sep(p, &len);
    if (!sep || sep == 'm')
        return false;
    p += len;
    unsigned nm = read_digits(&p, 2, &m);
    if (nm < 1 || nm > 2)
        return false;
    size_t len2;
    char sep2 = date_sep(p, &len2);
    if (sep2 != (sep == 'y' ? 'm' : sep))
        return false;
    p += len2;
    unsigned nd = read_digits(&p, 2, &d);
    if (nd < 1 || nd > 2)
        return false;
    if (sep == 'y') {
        const unsigned char *q;
        if ((q = match_prefix(p, "日")) || (q = match_prefix(p, "号")))
            p = q;
    }
    /* an optional time: " 00:00:00", "T08:30" */
    bool spaced = false;
    const unsigned char *q = skip_spaces(p, &spaced);
    if ((spaced || *q == 'T') && *q) {
        if (*q == 'T')
            q++;
        int t;
        if (read_digits(&q, 2, &t) < 1)
            return false;
        bool wide = false;
        while ((len = ascii_at(q, ':', &wide)) > 0 || (len = ascii_at(q, '.', &wide)) > 0) {
            q += len;
            if (read_digits(&q, 9, &t) < 1)
                return false;
        }
    }
    if (*skip_spaces(q, NULL))
        return false;
    if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    return write_date(y, m, d, out, size);
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian). */
static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

bool ps_clean_date_serial(double serial, char *out, size_t size)
{
    /* 1 is 1900-01-01; Excel counts a 1900-02-29 that never was as 60, so from 61 on the
     * serial is the number of days since 1899-12-30. 2958465 is 9999-12-31. */
    if (!out || size < 11 || !isfinite(serial) || serial < 1 || serial >= 2958466)
        return false;
    long days = (long)floor(serial);
    if (days == 60)
        return false;
    const long epoch_1899_12_30 = -25569; /* days from 1970-01-01 */
    long z = days < 60 ? epoch_1899_12_30 + 1 + days : epoch_1899_12_30 + days;
    int y, m, d;
    civil_from_days(z, &y, &m, &d);
    return write_date(y, m, d, out, size);
}

bool ps_clean_year(const char *text, int *year, char *out_digits, size_t digits_size)
{
    if (out_digits && digits_size)
        out_digits[0] = '\0';
    if (!text)
        return false;
    const unsigned char *run = NULL, *run_end = NULL, *only = NULL, *only_end = NULL;
    unsigned runs = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && !run;) {
        size_t len;
        bool wide = false;
        if (digit_at(p, &len, &wide) < 0) {
            p += seq_len(p);
            continue;
        }
        const unsigned char *start = p;
        while (digit_at(p, &len, &wide) >= 0)
            p += len;
        if (++runs == 1)
            only = start, only_end = p;
        if (match_prefix(skip_spaces(p, NULL), "年"))
            run = start, run_end = p;
    }
    if (!run) {
        if (runs != 1)
            return false;
        run = only, run_end = only_end;
    }
    int value = 0;
    unsigned count = 0;
    for (const unsigned char *p = run; p < run_end; count++) {
        size_t len = 1;
        bool wide = false;
        int d = digit_at(p, &len, &wide);
        if (count < 9)
            value = value * 10 + d;
        p += len;
    }
    if (out_digits && digits_size) {
        size_t w = 0;
        for (const unsigned char *p = run; p < run_end;) {
            size_t n = seq_len(p);
            if (!put(out_digits, digits_size, &w, p, n))
                break;
            p += n;
        }
        out_digits[w] = '\0';
    }
    if (count != 4 || value < 1900 || value > 2100)
        return false;
    if (year)
        *year = value;
    return true;
}
