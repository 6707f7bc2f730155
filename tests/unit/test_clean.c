/* test_clean.c - value cleaning: numbers, rates and targets as typed, trimming, labels, dates
 * and years. The "samples" tables hold texts exactly as they sit in the cells of
 * samples/hengyang-county-2021 and samples/synthetic (read with xlrd), with the values their
 * expected.json gives after cleaning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "perfsheet/clean.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define U3000 "\xe3\x80\x80"
#define NBSP "\xc2\xa0"

static const char *note_name(ps_clean_note n)
{
    return n == PS_CLEAN_NONE ? "none" : n == PS_CLEAN_INFO ? "info" : "warning";
}

typedef struct row {
    const char *typed;
    bool ok;
    double want;
    ps_clean_note note;
    const char *message; /* NULL: not checked unless note is NONE */
    bool percent;
    unsigned decimals;
    const char *cmp;
} row;

static void check_rows(const row *rows, size_t n, ps_cleaned (*fn)(const char *), const char *name)
{
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        ps_cleaned c = fn(r->typed);
        print_message("%s row %zu: '%s' -> ok %d %.9g %s %s '%s' dec %u\n", name, i, r->typed, c.ok, c.number,
                      note_name(c.note), c.message ? c.message : "(null)", c.comparator, c.decimals);
        assert_int_equal(c.ok, r->ok);
        if (r->ok)
            assert_true(fabs(c.number - r->want) < 1e-9);
        assert_int_equal(c.note, r->note);
        if (r->note == PS_CLEAN_NONE)
            assert_null(c.message);
        else
            assert_non_null(c.message);
        if (r->message)
            assert_string_equal(c.message, r->message);
        if (r->ok) {
            assert_int_equal(c.percent, r->percent);
            assert_int_equal(c.decimals, r->decimals);
        }
        assert_string_equal(c.comparator, r->cmp ? r->cmp : "");
    }
}

/* Numbers typed as text in the samples, with their expected.json values. */
static void test_samples_numbers(void **state)
{
    static const row rows[] = {
        {U3000 "114", true, 114, PS_CLEAN_INFO, "已去除空格", false, 0, NULL},          /* hengyang jcsj B5 */
        {"10.5" U3000, true, 10.5, PS_CLEAN_INFO, "已去除空格", false, 1, NULL},        /* hengyang jcsj C9 */
        {"1,192.62", true, 1192.62, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL}, /* u06 jcsj B7 */
        {"1,006.35", true, 1006.35, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL}, /* u06 jcsj C7 */
        {"1,207.05", true, 1207.05, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL}, /* u06 jcsj D7 */
        {"1,209.50", true, 1209.5, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL},  /* u06 zpb C8 */
        {"922.21", true, 922.21, PS_CLEAN_NONE, NULL, false, 2, NULL},                  /* u06 zpb E9 */
        {"４．１８", true, 4.18, PS_CLEAN_INFO, "全角字符已转换", false, 2, NULL},      /* u07 jcsj B13 */
        {"６５２．７７", true, 652.77, PS_CLEAN_INFO, "全角字符已转换", false, 2, NULL},    /* u07 zpb E9 */
        {"４．９７", true, 4.97, PS_CLEAN_INFO, "全角字符已转换", false, 2, NULL},          /* u11 jcsj D13 */
        {U3000 "257.67", true, 257.67, PS_CLEAN_INFO, "已去除空格", false, 2, NULL},        /* u11 jcsj D27 */
        {"１７１４．９１", true, 1714.91, PS_CLEAN_INFO, "全角字符已转换", false, 2, NULL}, /* u11 zpb C8 */
        {U3000, false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL}, /* u08 blank=　 */
    };
    check_rows(rows, N(rows), ps_clean_number, "number");
}

/* Rates typed as text in the samples: both are clean.percent_text warnings in expected.json. */
static void test_samples_rates(void **state)
{
    static const row rows[] = {
        {U3000 "100%", true, 1.0, PS_CLEAN_WARNING, "比率以文本录入", true, 0, NULL}, /* hengyang jcsj D5 */
        {"100%", true, 1.0, PS_CLEAN_WARNING, "比率以文本录入", true, 0, NULL},       /* u12 zpb F6 */
    };
    check_rows(rows, N(rows), ps_clean_rate_text, "rate");
}

/* 指标值 / 完成值 texts of the samples' indicator rows. */
static void test_samples_targets(void **state)
{
    static const row rows[] = {
        {U3000 "1458", true, 1458, PS_CLEAN_INFO, "已去除空格", false, 0, NULL}, /* u06 zpb E15 */
        {U3000 "940812", true, 940812, PS_CLEAN_INFO, NULL, false, 0, NULL},     /* hengyang zpb E15 */
        {U3000 "69486", true, 69486, PS_CLEAN_INFO, NULL, false, 0, NULL},       /* hengyang zpb E16 */
        {"73", true, 73, PS_CLEAN_NONE, NULL, false, 0, NULL},                   /* u06 zpb E16 */
        {"100%", true, 1.0, PS_CLEAN_NONE, NULL, true, 0, NULL},                 /* E18 everywhere */
        {"≥98%", true, 0.98, PS_CLEAN_NONE, NULL, true, 0, "≥"},                 /* F26 */
        {U3000 "≥98%", true, 0.98, PS_CLEAN_INFO, "已去除空格", true, 0, "≥"},   /* E26 */
        {"≥95%", true, 0.95, PS_CLEAN_NONE, NULL, true, 0, "≥"},                 /* u02 E21 */
        {"97.0%", true, 0.97, PS_CLEAN_NONE, NULL, true, 1, NULL},               /* u02 F21 */
        {"98.6%", true, 0.986, PS_CLEAN_NONE, NULL, true, 1, NULL},              /* u02 F23 */
        {"96.9%", true, 0.969, PS_CLEAN_NONE, NULL, true, 1, NULL},              /* u08 F18 */
        {"98.3%", true, 0.983, PS_CLEAN_NONE, NULL, true, 1, NULL},              /* u08 F19 */
        {"93%", true, 0.93, PS_CLEAN_NONE, NULL, true, 0, NULL},                 /* u02 F34 */
        {"78家", true, 78, PS_CLEAN_NONE, NULL, false, 0, NULL},                 /* u02 E18 */
        {"≥30万元", true, 30, PS_CLEAN_NONE, NULL, false, 0, "≥"},               /* u02 E27 */
        {"154.58万元", true, 154.58, PS_CLEAN_NONE, NULL, false, 2, NULL},       /* u02 F27 */
        {"94.08万元", true, 94.08, PS_CLEAN_NONE, NULL, false, 2, NULL},         /* u08 F21 */
        {"不超过预算数", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},         /* u02 E24 */
        {"未超预算", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"较上年下降", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"平衡", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"有效保障", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
    };
    check_rows(rows, N(rows), ps_clean_target, "target");
}

static void test_numbers(void **state)
{
    static const row rows[] = {
        {"114", true, 114, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"0", true, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"-5.2", true, -5.2, PS_CLEAN_NONE, NULL, false, 1, NULL},
        {"－５．２", true, -5.2, PS_CLEAN_INFO, "全角字符已转换", false, 1, NULL},
        {"+3", true, 3, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"-0", true, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {".5", true, 0.5, PS_CLEAN_NONE, NULL, false, 1, NULL},
        {"5.", true, 5, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"１２３．４５", true, 123.45, PS_CLEAN_INFO, "全角字符已转换", false, 2, NULL},
        {NBSP "42" NBSP, true, 42, PS_CLEAN_INFO, "已去除空格", false, 0, NULL},
        {" \t12.5\r\n", true, 12.5, PS_CLEAN_INFO, "已去除空格", false, 1, NULL},
        {"5,578.66", true, 5578.66, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL},
        {"5 578.66", true, 5578.66, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL},
        {"5" U3000 "578.66", true, 5578.66, PS_CLEAN_INFO, "已去除千位分隔符", false, 2, NULL},
        {"1,234,567", true, 1234567, PS_CLEAN_INFO, "已去除千位分隔符", false, 0, NULL},
        {"1，234", true, 1234, PS_CLEAN_INFO, "全角字符已转换", false, 0, NULL},
        {"1,234", true, 1234, PS_CLEAN_INFO, "已去除千位分隔符", false, 0, NULL},
        {"12,34", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1,2", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1234,567", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1,234 567", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1,234.5,6", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1.234,56", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"760.35万元", true, 760.35, PS_CLEAN_INFO, "已去除单位“万元”", false, 2, NULL},
        {"216个", true, 216, PS_CLEAN_INFO, "已去除单位“个”", false, 0, NULL},
        {"1.8067万人", true, 1.8067, PS_CLEAN_INFO, "已去除单位“万人”", false, 4, NULL},
        {"12 人", true, 12, PS_CLEAN_INFO, "已去除单位“人”", false, 0, NULL},
        {"95分", true, 95, PS_CLEAN_INFO, NULL, false, 0, NULL},
        {"3次", true, 3, PS_CLEAN_INFO, NULL, false, 0, NULL},
        {"１,２３４万元", true, 1234, PS_CLEAN_INFO, "全角字符已转换", false, 0, NULL},
        {"99.6%", true, 0.996, PS_CLEAN_INFO, "百分数已换算为小数", true, 1, NULL},
        {"99.60%", true, 0.996, PS_CLEAN_INFO, "百分数已换算为小数", true, 2, NULL},
        {"９８％", true, 0.98, PS_CLEAN_INFO, "全角字符已转换", true, 0, NULL},
        {"91%%", true, 0.91, PS_CLEAN_WARNING, "百分号重复", true, 0, NULL},
        {"760.35d", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"abc", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1.2.3", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"-", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {".", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1e5", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"5%万元", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"万元", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"1 2", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"12\n34", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"- 5", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {"", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"  " U3000 NBSP "\t", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        /* a bound where a value belongs: not a number, the comparator tells why */
        {"≥98%", false, 0, PS_CLEAN_WARNING, "数值前带比较符，不是确定的数值", false, 0, "≥"},
        {"≧90%", false, 0, PS_CLEAN_WARNING, "数值前带比较符，不是确定的数值", false, 0, "≥"},
        {"<5", false, 0, PS_CLEAN_WARNING, "数值前带比较符，不是确定的数值", false, 0, "<"},
        {"不超过5", false, 0, PS_CLEAN_WARNING, "数值前带比较符，不是确定的数值", false, 0, "≤"},
        {"≥", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
    };
    check_rows(rows, N(rows), ps_clean_number, "number");
    assert_int_equal(ps_clean_number(NULL).ok, false);
    assert_int_equal(ps_clean_number(NULL).note, PS_CLEAN_NONE);
    /* exact: the nearest double to what was typed, not one ulp off */
    assert_true(ps_clean_number("99.6%").number == 0.996);
    assert_true(ps_clean_number("5,578.66").number == 5578.66);
    assert_true(ps_clean_number("１２３．４５").number == 123.45);
    assert_true(ps_clean_number("0.1").number == 0.1);
}

static void test_rate_text(void **state)
{
    static const row rows[] = {
        {"99.6%", true, 0.996, PS_CLEAN_WARNING, "比率以文本录入", true, 1, NULL},
        {"99.60%", true, 0.996, PS_CLEAN_WARNING, "比率以文本录入", true, 2, NULL},
        {"91%%", true, 0.91, PS_CLEAN_WARNING, "百分号重复", true, 0, NULL},
        {"９８．２５％", true, 0.9825, PS_CLEAN_WARNING, "比率以文本录入", true, 2, NULL},
        {"0.996", true, 0.996, PS_CLEAN_NONE, NULL, false, 3, NULL},
        {"1.2", true, 1.2, PS_CLEAN_NONE, NULL, false, 1, NULL},
        {"1.5", true, 1.5, PS_CLEAN_NONE, NULL, false, 1, NULL},
        {"99.6", true, 0.996, PS_CLEAN_WARNING, "比率以百分数录入（如 99.6 应为 99.6%）", false, 1, NULL},
        {"150%", true, 1.5, PS_CLEAN_WARNING, "比率以文本录入", true, 0, NULL},
        {"≥98%", false, 0, PS_CLEAN_WARNING, "数值前带比较符，不是确定的数值", false, 0, "≥"},
        {"百分百", false, 0, PS_CLEAN_WARNING, "无法识别的数值", false, 0, NULL},
        {U3000, false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
    };
    check_rows(rows, N(rows), ps_clean_rate_text, "rate");
    assert_true(ps_clean_rate_text("99.6").number == 0.996);
}

static void test_rate_number(void **state)
{
    static const struct {
        double typed, want;
        ps_clean_note note;
    } rows[] = {{0.996, 0.996, PS_CLEAN_NONE}, {1.0, 1.0, PS_CLEAN_NONE},        {1.2, 1.2, PS_CLEAN_NONE},
                {1.5, 1.5, PS_CLEAN_NONE},     {99.6, 0.996, PS_CLEAN_WARNING},  {100, 1.0, PS_CLEAN_WARNING},
                {0, 0, PS_CLEAN_NONE},         {1.51, 0.0151, PS_CLEAN_WARNING}, {-0.5, -0.5, PS_CLEAN_NONE}};
    for (size_t i = 0; i < N(rows); i++) {
        ps_cleaned c = ps_clean_rate_number(rows[i].typed);
        print_message("rate number row %zu: %g -> %.9g %s\n", i, rows[i].typed, c.number, note_name(c.note));
        assert_true(c.ok);
        assert_true(fabs(c.number - rows[i].want) < 1e-9);
        assert_int_equal(c.note, rows[i].note);
        assert_false(c.percent);
        if (rows[i].note == PS_CLEAN_WARNING)
            assert_string_equal(c.message, "比率以百分数录入（如 99.6 应为 99.6%）");
        else
            assert_null(c.message);
    }
    ps_cleaned c = ps_clean_rate_number(NAN);
    assert_false(c.ok);
    assert_int_equal(c.note, PS_CLEAN_WARNING);
    assert_false(ps_clean_rate_number(INFINITY).ok);
}

static void test_targets(void **state)
{
    static const row rows[] = {
        {"940812", true, 940812, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"1.8067万人", true, 1.8067, PS_CLEAN_NONE, NULL, false, 4, NULL},
        {"≧90%", true, 0.9, PS_CLEAN_NONE, NULL, true, 0, "≥"},
        {"≦5天", true, 5, PS_CLEAN_NONE, NULL, false, 0, "≤"},
        {"≤ 10", true, 10, PS_CLEAN_NONE, NULL, false, 0, "≤"},
        {">=95%", true, 0.95, PS_CLEAN_NONE, NULL, true, 0, "≥"},
        {"<=3", true, 3, PS_CLEAN_NONE, NULL, false, 0, "≤"},
        {">0", true, 0, PS_CLEAN_NONE, NULL, false, 0, ">"},
        {"<1%", true, 0.01, PS_CLEAN_NONE, NULL, true, 0, "<"},
        {"＞９０％", true, 0.9, PS_CLEAN_INFO, "全角字符已转换", true, 0, ">"},
        {"＜5", true, 5, PS_CLEAN_NONE, NULL, false, 0, "<"},
        {"=100%", true, 1, PS_CLEAN_NONE, NULL, true, 0, "="},
        {"大于等于98%", true, 0.98, PS_CLEAN_NONE, NULL, true, 0, "≥"},
        {"不低于95%", true, 0.95, PS_CLEAN_NONE, NULL, true, 0, "≥"},
        {"不少于10家", true, 10, PS_CLEAN_NONE, NULL, false, 0, "≥"},
        {"小于等于5%", true, 0.05, PS_CLEAN_NONE, NULL, true, 0, "≤"},
        {"不超过1,000万元", true, 1000, PS_CLEAN_INFO, "已去除千位分隔符", false, 0, "≤"},
        {"不高于3次", true, 3, PS_CLEAN_NONE, NULL, false, 0, "≤"},
        {"91%%", true, 0.91, PS_CLEAN_WARNING, "百分号重复", true, 0, NULL},
        {"100%覆盖", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"3次/年", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"≥", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {"", false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
        {U3000, false, 0, PS_CLEAN_NONE, NULL, false, 0, NULL},
    };
    check_rows(rows, N(rows), ps_clean_target, "target");
    assert_false(ps_clean_target(NULL).ok);
}

static void test_trim(void **state)
{
    static const struct {
        const char *typed, *want;
    } rows[] = {
        {U3000 "114", "114"},
        {"10.5" U3000, "10.5"},
        {"  衡阳县医疗保障事务中心 " NBSP U3000 "\n", "衡阳县医疗保障事务中心"},
        {"附件1-1          ", "附件1-1"},
        {"a\r\nb\rc\nd", "a\nb\nc\nd"},
        {"产出\n指标\n（50分）", "产出\n指标\n（50分）"},
        {"中" U3000 "间", "中" U3000 "间"},
        {U3000 U3000, ""},
        {"", ""},
        /* the one-copy path (no CR) and the byte-wise one agree at both ends */
        {"医疗\t保障" U3000 "局 ", "医疗\t保障" U3000 "局"},
        {" 局\r", "局"},
        {"\xe0\x80\x80" U3000, "\xe0\x80\x80"}, /* overlong: copied, not a space */
    };
    char out[64];
    for (size_t i = 0; i < N(rows); i++) {
        size_t n = ps_clean_trim(rows[i].typed, out, sizeof out);
        print_message("trim row %zu: '%s' -> '%s'\n", i, rows[i].typed, out);
        assert_string_equal(out, rows[i].want);
        assert_int_equal(n, strlen(rows[i].want));
    }
    /* too small: cut at a UTF-8 boundary, always terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(ps_clean_trim(" 医疗保障局", small, sizeof small), 6);
    assert_string_equal(small, "医疗");
    assert_int_equal(ps_clean_trim("abc", small, 1), 0);
    assert_string_equal(small, "");
    assert_int_equal(ps_clean_trim(NULL, small, sizeof small), 0);
    assert_string_equal(small, "");
    /* a sequence cut by the NUL is copied as bytes, never read past */
    assert_int_equal(ps_clean_trim("a\xe4\xb8", out, sizeof out), 3);
    assert_int_equal(ps_clean_trim("\xe3\x80", out, sizeof out), 2);
}

static void test_label(void **state)
{
    static const struct {
        const char *typed, *want;
    } rows[] = {
        {"填报单位（盖章）：", "填报单位(盖章):"},
        {"填报单位:", "填报单位:"},
        {" 填 报 单 位 ：", "填报单位:"},
        {"产出\n指标\n（50分）", "产出指标(50分)"},
        {U3000 "编制数" NBSP, "编制数"},
        {"部门资金（万元）", "部门资金(万元)"},
        {"ＡＢＣ１２３", "ABC123"},
        {"其中： 1、压缩一般性支出", "其中:1、压缩一般性支出"},
        {"", ""},
        /* every three-byte path: CJK, the other spaces and the BOM dropped, full-width forms */
        {"编\xe2\x80\x8b制\xe2\x80\xaf数\xef\xbb\xbf\xe2\x80\x80", "编制数"},
        {"\xef\xbd\x9e\xef\xbc\x81\xef\xbd\x9f", "~!\xef\xbd\x9f"}, /* U+FF5E, U+FF01 in, U+FF5F out */
        {"\xe0\x80\x80\xed\xa0\x80", "\xe0\x80\x80\xed\xa0\x80"},   /* malformed: copied as is */
        {"\xe4\xb8", "\xe4\xb8"},                                   /* cut by the NUL: bytes */
        {"\xc2\xa0"
         "a\xc3\xa9",
         "a\xc3\xa9"},
    };
    char out[64];
    for (size_t i = 0; i < N(rows); i++) {
        size_t n = ps_clean_label(rows[i].typed, out, sizeof out);
        print_message("label row %zu: '%s' -> '%s'\n", i, rows[i].typed, out);
        assert_string_equal(out, rows[i].want);
        assert_int_equal(n, strlen(rows[i].want));
    }
    char a[32], b[32];
    ps_clean_label("填报单位（盖章）：", a, sizeof a);
    ps_clean_label("填报单位（盖章）:", b, sizeof b);
    assert_string_equal(a, b);
    char small[5];
    assert_int_equal(ps_clean_label("单位：", small, sizeof small), 3);
    assert_string_equal(small, "单");
    /* a full buffer stops at a whole character, whichever path copies it */
    assert_int_equal(ps_clean_label("ab单", small, sizeof small), 2);
    assert_string_equal(small, "ab");
    assert_int_equal(ps_clean_label("abc：", small, sizeof small), 4);
    assert_string_equal(small, "abc:");
    assert_int_equal(ps_clean_label("ａｂｃｄｅ", small, sizeof small), 4);
    assert_string_equal(small, "abcd");
}

static void test_blank(void **state)
{
    assert_true(ps_clean_is_blank(NULL));
    assert_true(ps_clean_is_blank(""));
    assert_true(ps_clean_is_blank(U3000));
    assert_true(ps_clean_is_blank(" \t\r\n" NBSP U3000));
    assert_false(ps_clean_is_blank(U3000 "0"));
    assert_false(ps_clean_is_blank("-"));
    assert_false(ps_clean_is_blank("\xe3\x80")); /* cut U+3000: not a space */
}

static void test_dates(void **state)
{
    static const struct {
        const char *typed, *want; /* want NULL: rejected */
    } rows[] = {
        {"2022年4月25日", "2022-04-25"},           /* hengyang jcsj D3 */
        {"2022-04-08", "2022-04-08"},              /* u02 jcsj D3 */
        {"填报时间：2022年4月15日", "2022-04-15"}, /* u06 zpb F4 */
        {"2022/4/25", "2022-04-25"},
        {"2022.4.25", "2022-04-25"},
        {"2022年04月25日", "2022-04-25"},
        {"2022年4月25", "2022-04-25"},
        {"2022-4-25 00:00:00", "2022-04-25"},
        {"2022-04-25T08:30:00", "2022-04-25"},
        {U3000 "２０２２年４月２５日" U3000, "2022-04-25"},
        {"2024-02-29", "2024-02-29"},
        {"填报时间:2021/12/31", "2021-12-31"},
        {"2023-02-29", NULL},
        {"1900-02-29", NULL},
        {"2022-13-01", NULL},
        {"2022-04-31", NULL},
        {"2022-00-10", NULL},
        {"2022年04月", NULL},
        {"2022-4/25", NULL},
        {"22-4-25", NULL},
        {"20220-4-25", NULL},
        {"2022-4-25x", NULL},
        {"2022-123-1", NULL},
        {"填报时间", NULL},
        {"abc2022-04-25", NULL},
        {"", NULL},
    };
    char out[16];
    for (size_t i = 0; i < N(rows); i++) {
        strcpy(out, "unset");
        bool ok = ps_clean_date(rows[i].typed, out, sizeof out);
        print_message("date row %zu: '%s' -> %d '%s'\n", i, rows[i].typed, ok, out);
        assert_int_equal(ok, rows[i].want != NULL);
        if (rows[i].want)
            assert_string_equal(out, rows[i].want);
        else
            assert_string_equal(out, "unset"); /* out-parameters are set on success only */
    }
    assert_false(ps_clean_date("2022-04-25", out, 10));
    assert_false(ps_clean_date(NULL, out, sizeof out));
}

static void test_date_serial(void **state)
{
    static const struct {
        double serial;
        const char *want;
    } rows[] = {{44676, "2022-04-25"},
                {44676.75, "2022-04-25"},
                {1, "1900-01-01"},
                {59, "1900-02-28"},
                {61, "1900-03-01"},
                {36526, "2000-01-01"},
                {43831, "2020-01-01"},
                {2958465, "9999-12-31"},
                {45351, "2024-02-29"},
                {60, NULL},
                {0, NULL},
                {-1, NULL},
                {2958466, NULL},
                {NAN, NULL}};
    char out[16];
    for (size_t i = 0; i < N(rows); i++) {
        bool ok = ps_clean_date_serial(rows[i].serial, out, sizeof out);
        print_message("serial row %zu: %g -> %d '%s'\n", i, rows[i].serial, ok, ok ? out : "");
        assert_int_equal(ok, rows[i].want != NULL);
        if (rows[i].want)
            assert_string_equal(out, rows[i].want);
    }
}

static void test_year(void **state)
{
    static const struct {
        const char *typed;
        bool ok;
        int year;
        const char *digits;
    } rows[] = {
        {"（ 2021 年度）", true, 2021, "2021"}, /* synthetic zpb A3 */
        {"（ 20201 年度）", false, 0, "20201"}, /* hengyang zpb A3 */
        {"2021年", true, 2021, "2021"},
        {"2021", true, 2021, "2021"},
        {"（２０２１年度）", true, 2021, "２０２１"},
        {"2022年4月25日", true, 2022, "2022"},
        {"附件1-2 2021年度", true, 2021, "2021"},
        {"2021年实际在职人数", true, 2021, "2021"},
        {"（ 221 年度）", false, 0, "221"},
        {"1899年", false, 0, "1899"},
        {"附件1-2", false, 0, ""},
        {"年度", false, 0, ""},
        {"", false, 0, ""},
    };
    for (size_t i = 0; i < N(rows); i++) {
        int year = -1;
        char digits[16] = "unset";
        bool ok = ps_clean_year(rows[i].typed, &year, digits, sizeof digits);
        print_message("year row %zu: '%s' -> %d %d '%s'\n", i, rows[i].typed, ok, year, digits);
        assert_int_equal(ok, rows[i].ok);
        assert_int_equal(year, rows[i].ok ? rows[i].year : -1);
        assert_string_equal(digits, rows[i].digits);
    }
    int year = 0;
    assert_true(ps_clean_year("（ 2021 年度）", &year, NULL, 0));
    assert_int_equal(year, 2021);
    char small[3];
    assert_false(ps_clean_year("20201 年度", &year, small, sizeof small));
    assert_string_equal(small, "20");
    assert_false(ps_clean_year(NULL, &year, small, sizeof small));
}

/* Bytes that are not UTF-8 and texts cut inside a sequence: no crash, no read past the NUL
 * (ASan watches), and nothing taken for a number. */
static void test_malformed(void **state)
{
    static const char *texts[] = {"\xef",     "\xef\xbc", "1\xef\xbc", "\xe2\x89",
                                  "\xff\xfe", "12\xc2",   "\xe3\x80",  "\x80\x80",
                                  "1,",       "1,\xef",   "≥",         "99.6\xef\xbc"};
    char out[8];
    for (size_t i = 0; i < N(texts); i++) {
        print_message("malformed row %zu\n", i);
        char copy[16];
        strcpy(copy, texts[i]); /* exact-size heap would be better; ASan checks the stack too */
        assert_false(ps_clean_number(copy).ok);
        assert_false(ps_clean_target(copy).ok);
        ps_clean_rate_text(copy);
        ps_clean_trim(copy, out, sizeof out);
        ps_clean_label(copy, out, sizeof out);
        ps_clean_is_blank(copy);
        ps_clean_date(copy, out, sizeof out);
        int y;
        ps_clean_year(copy, &y, out, sizeof out);
    }
    /* a long run of digits stays finite or is refused, never overflows */
    char big[400];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ps_cleaned c = ps_clean_number(big);
    assert_false(c.ok && !isfinite(c.number));
    memset(big, '1', 30);
    big[30] = '\0';
    c = ps_clean_number(big);
    assert_true(c.ok);
    assert_true(fabs(c.number / 1.11111111111111111e29 - 1) < 1e-12);
}

/* Random texts built from the fragments the parsers look for, each in a heap block of exactly
 * its size so ASan sees any read past the NUL; a fixed seed keeps the run reproducible. */
static void test_random_fragments(void **state)
{
    static const char *frags[] = {
        "0",  "9",  "１", "．",   ".",        ",",        "，",   "、",   " ",  U3000,    NBSP, "%",  "％",
        "-",  "－", "+",  "≥",    "≧",        "<",        "=",    "万元", "人", "年",     "月", "日", ":",
        "：", "\r", "\n", "\xe3", "\xe3\x80", "\xef\xbc", "\xc2", "\x80", "a",  "不超过", "T"};
    uint32_t seed = 12345;
    char out[32];
    for (int iter = 0; iter < 20000; iter++) {
        char buf[96];
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        int pieces = (int)(seed >> 16) % 9;
        for (int k = 0; k < pieces; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *f = frags[(seed >> 16) % N(frags)];
            size_t fl = strlen(f);
            memcpy(buf + len, f, fl);
            len += fl;
        }
        char *text = test_malloc(len + 1);
        memcpy(text, buf, len);
        text[len] = '\0';
        ps_cleaned cs[3] = {ps_clean_number(text), ps_clean_rate_text(text), ps_clean_target(text)};
        for (int j = 0; j < 3; j++) {
            if (cs[j].ok)
                assert_true(isfinite(cs[j].number));
            assert_true((cs[j].note == PS_CLEAN_NONE) == (cs[j].message == NULL));
            assert_true(strlen(cs[j].comparator) < sizeof cs[j].comparator);
        }
        assert_true(ps_clean_trim(text, out, sizeof out) < sizeof out);
        assert_true(ps_clean_label(text, out, sizeof out) <= len);
        if (ps_clean_date(text, out, sizeof out))
            assert_int_equal(strlen(out), 10);
        int y;
        ps_clean_year(text, &y, out, sizeof out);
        ps_clean_is_blank(text);
        test_free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_numbers),
        cmocka_unit_test(test_samples_rates),
        cmocka_unit_test(test_samples_targets),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_rate_text),
        cmocka_unit_test(test_rate_number),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_label),
        cmocka_unit_test(test_blank),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_date_serial),
        cmocka_unit_test(test_year),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_random_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
