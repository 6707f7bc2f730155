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
    bool ok;             /* a number was found */
    double number;       /* the number; a fraction for percentages (99.6% -> 0.996) */
    bool percent;        /* the text carried a % sign */
    char comparator[4];  /* UTF-8 "≥", "≤", ">", "<", "=" found before the number, else "" */
    ps_clean_note note;  /* how much was normalised */
    const char *message; /* static Chinese text saying what was normalised or why it failed
                            ("全角字符已转换", "无法识别的数值"), NULL when note is NONE; when
                            several things were normalised, the most telling one of the
                            highest severity (full-width > thousands > unit > % > spaces) */
    unsigned decimals;   /* digits after the decimal point as typed (99.60% -> 2) */
} ps_cleaned;
/* number, percent and decimals mean something only when ok. Blank text (spaces only) gives
 * ok false with note NONE: callers treat it as a blank cell. */

/* A number: money, counts, scores. "　114" -> 114 (info); "5,578.66" -> 5578.66 (info);
 * "１２３．４５" -> 123.45 (info); "760.35万元" -> 760.35 (info); "760.35d" -> !ok, warning
 * "无法识别的数值". A percentage ("99.6%") gives its fraction with percent set (info).
 * Groups of three may be split by , ， 、 or one space, in the integer part only ("12,34"
 * is refused). Units (万元 元 万人 人 个 分 次 户 家 项 件 天 日 …) are dropped, the value
 * kept as typed. A comparator before the number ("≥98%" in a value cell) is a bound, not a
 * value: !ok, warning "数值前带比较符，不是确定的数值", comparator filled to say which. */
ps_cleaned ps_clean_number(const char *text);

/* A rate or other fraction typed as text: "100%" -> 1.0, "99.6%" -> 0.996 (warning in a rate
 * cell: a percentage typed as text, "比率以文本录入"); "91%%" -> 0.91 (warning "百分号重复");
 * "0.996" -> 0.996 (none); "99.6" (above 1.5, no %) -> 0.996 as ps_clean_rate_number does.
 * Otherwise as ps_clean_number. */
ps_cleaned ps_clean_rate_text(const char *text);

/* A rate stored as a number: 0.996 stays, 1.2 stays (a rate may pass 100%); above 1.5 (99.6
 * meant as 99.6%) -> 0.996 with the warning "比率以百分数录入（如 99.6 应为 99.6%）" (the
 * caller has both numbers to say more). NaN/inf -> !ok, warning. decimals is 0. */
ps_cleaned ps_clean_rate_number(double number);

/* A target or achieved value (指标值/完成值): the text is kept as written by the caller;
 * this finds the comparator (≧ U+2267 becomes ≥) and the number if there is one:
 * "≥98%" -> ≥, 0.98, percent; "940812" -> 940812; "1.8067万人" -> 1.8067; "平衡" -> !ok, NONE.
 * Comparators: ≥ ≧ ⩾ >= ＞＝ 大于等于 不低于 不少于 不小于 -> "≥"; ≤ ≦ ⩽ <= ＜＝ 小于等于
 * 不超过 不高于 不大于 不多于 -> "≤"; > ＞ 大于 高于 超过 -> ">"; < ＜ 小于 低于 -> "<"; = ＝.
 * Units, % and comparators are natural here and give no note; full-width forms, padding
 * and thousands separators give info, "91%%" a warning. Text after the number other than one
 * unit ("100%覆盖", "3次/年") makes the whole a text target: !ok, NONE. */
ps_cleaned ps_clean_target(const char *text);

/* Copies text into out (size bytes) trimmed of ASCII and full-width spaces (U+3000, U+00A0)
 * at both ends, with CR LF / lone CR turned into LF. Returns the length written; the result
 * is cut at a UTF-8 boundary if out is too small. */
size_t ps_clean_trim(const char *text, char *out, size_t size);

/* Normalises text for label matching: drops every space (ASCII, U+3000, U+00A0, tabs,
 * newlines), turns full-width ASCII forms (U+FF01–U+FF5E) into ASCII and full-width
 * colons/parentheses into ASCII ones. "填报单位（盖章）：" -> "填报单位(盖章):". A label a page
 * break doubled ("产出指标产出指标", halves of at least two Chinese characters) gives one copy. */
size_t ps_clean_label(const char *text, char *out, size_t size);

/* True when text is only spaces (ASCII, U+3000, U+00A0) or empty: a cell to treat as blank. */
bool ps_clean_is_blank(const char *text);

/* Parses a date as typed or as ISO: "2022-04-25", "2022年4月25日", "2022.4.25", "2022/4/25",
 * "2022-4-25 00:00:00", full-width digits, a label ending in a colon before it
 * ("填报时间：2022年4月15日"); "2022年04月" fails (no day). Year 1900..2100, month and day
 * checked (2023-02-29 fails). Writes "YYYY-MM-DD" into out (size >= 11) on success only. */
bool ps_clean_date(const char *text, char *out, size_t size);

/* An Excel serial date (1900 system) as "YYYY-MM-DD" into out (size >= 11): 1 is 1900-01-01,
 * 44676 is 2022-04-25, the time of day is dropped. 60, Excel's 1900-02-29 that never was,
 * fails, as do serials below 1 or past 9999-12-31. */
bool ps_clean_date_serial(double serial, char *out, size_t size);

/* A 4-digit year found in text: the first run of digits followed by optional spaces and 年,
 * else the only run of digits. "（ 2021 年度）" -> 2021; "20201 年度" -> false. out_digits (when
 * not NULL) gets that run as typed ("20201", full-width digits stay full-width), "" when
 * there is none; *year is set only for 4 digits in 1900..2100. */
bool ps_clean_year(const char *text, int *year, char *out_digits, size_t digits_size);

#endif
