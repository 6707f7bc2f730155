/* clean.h - turning what people type into numbers: full-width digits and spaces (U+3000),
 * thousands separators, 万元/元/个/人/分 suffixes, percentages typed as text, comparators
 * (≥ ≧ ≤ ≦ > <), a rate typed 99.6 meaning 99.6%. Every normalisation is reported with a
 * severity and a short Chinese note so that the raw text is never silently lost.
 * Pure functions: no allocation, thread-safe. */
#ifndef PERFSHEET_CLEAN_H
#define PERFSHEET_CLEAN_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ps_clean_note {
    PS_CLEAN_NONE = 0, /* nothing to say: the text was a plain number */
    PS_CLEAN_INFO,     /* normalised silently (full-width digits, U+3000 padding, 5,578.66, 万元) */
    PS_CLEAN_WARNING,  /* suspicious (a percentage typed as text in a rate cell, 91%%, 99.6 in a rate) */
} ps_clean_note;

typedef struct ps_cleaned {
    bool ok;               /* a number was found */
    double number;         /* the number; a fraction for percentages (99.6% -> 0.996) */
    bool percent;          /* the text carried a % sign */
    char comparator[4];    /* UTF-8 "≥", "≤", ">", "<", "=" found before the number, else "" */
    ps_clean_note note;    /* how much was normalised */
    const char *message;   /* static Chinese text saying what was normalised or why it failed
                              ("全角数字已转换", "无法识别的数值"), NULL when note is NONE */
    unsigned decimals;     /* digits after the decimal point as typed (99.60% -> 2) */
} ps_cleaned;

/* A number: money, counts, scores. "　114" -> 114 (info); "5,578.66" -> 5578.66 (info);
 * "１２３．４５" -> 123.45 (info); "760.35万元" -> 760.35 (info); "760.35d" -> !ok, warning
 * "无法识别的数值". A percentage ("99.6%") gives its fraction with percent set. */
ps_cleaned clean_number(const char *text);

/* A rate or other fraction typed as text: "100%" -> 1.0, "99.6%" -> 0.996 (warning in a rate
 * cell: a percentage typed as text); "91%%" -> 0.91 (warning); "0.996" -> 0.996 (none). */
ps_cleaned clean_rate_text(const char *text);

/* A rate stored as a number: 0.996 stays; above 1.5 (99.6 meant as 99.6%) -> 0.996 with a
 * warning. */
ps_cleaned clean_rate_number(double number);

/* A target or achieved value (指标值/完成值): the text is kept as written by the caller;
 * this finds the comparator (≧ U+2267 becomes ≥) and the number if there is one:
 * "≥98%" -> ≥, 0.98, percent; "940812" -> 940812; "1.8067万人" -> 1.8067; "平衡" -> !ok, NONE. */
ps_cleaned clean_target(const char *text);

/* Copies text into out (size bytes) trimmed of ASCII and full-width spaces (U+3000, U+00A0)
 * at both ends, with CR LF / lone CR turned into LF. Returns the length written; the result
 * is cut at a UTF-8 boundary if out is too small. */
size_t clean_trim(const char *text, char *out, size_t size);

/* Normalises text for label matching: drops every space (ASCII, U+3000, U+00A0, tabs,
 * newlines), turns full-width ASCII forms (U+FF01–U+FF5E) into ASCII and full-width
 * colons/parentheses into ASCII ones. "填报单位（盖章）：" -> "填报单位(盖章):". */
size_t clean_label(const char *text, char *out, size_t size);

/* True when text is only spaces (ASCII, U+3000, U+00A0) or empty: a cell to treat as blank. */
bool clean_is_blank(const char *text);

/* Parses a date as typed or as ISO: "2022-04-25", "2022年4月25日", "2022.4.25", "2022/4/25",
 * "2022年04月" (day 1? no: fails). Writes "YYYY-MM-DD" into out (size >= 11). */
bool clean_date(const char *text, char *out, size_t size);

/* An Excel serial date (1900 system) as "YYYY-MM-DD" into out (size >= 11). */
bool clean_date_serial(double serial, char *out, size_t size);

/* A 4-digit year found in text: "（ 2021 年度）" -> 2021; "20201 年度" -> false, and *digits gets
 * the digits as typed ("20201") when out_digits is not NULL. */
bool clean_year(const char *text, int *year, char *out_digits, size_t digits_size);

#endif
