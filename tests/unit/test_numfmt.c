/* test_numfmt.c - number formats and serial dates, as both readers see them (numfmt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "numfmt.h"
#include "perfsheet/workbook.h"

static void test_builtin_ids(void **state)
{
    (void)state;
    static const struct {
        unsigned id;
        uint8_t cls, decimals;
        bool has_time;
    } ids[] = {
        {0, PS_FMT_GENERAL, 255, false},
        {1, PS_FMT_NUMBER, 0, false},
        {2, PS_FMT_NUMBER, 2, false},
        {4, PS_FMT_NUMBER, 2, false},
        {9, PS_FMT_PERCENT, 0, false},
        {10, PS_FMT_PERCENT, 2, false},
        {14, PS_FMT_DATE, 255, false},
        {18, PS_FMT_DATE, 255, true},
        {22, PS_FMT_DATE, 255, true},
        {48, PS_FMT_NUMBER, 1, false},
        {49, PS_FMT_TEXT, 255, false},
        {45, PS_FMT_DATE, 255, true},
        /* the Chinese locale's built-in dates that WPS and Chinese Excel leave undefined:
         * 27-31, 36, 50-54 yyyy"年"m"月" and the like; 32-35, 55-58 with hours */
        {27, PS_FMT_DATE, 255, false},
        {31, PS_FMT_DATE, 255, false},
        {32, PS_FMT_DATE, 255, true},
        {35, PS_FMT_DATE, 255, true},
        {36, PS_FMT_DATE, 255, false},
        {50, PS_FMT_DATE, 255, false},
        {54, PS_FMT_DATE, 255, false},
        {55, PS_FMT_DATE, 255, true},
        {58, PS_FMT_DATE, 255, true},
        {59, PS_FMT_NUMBER, 255, false},
        {71, PS_FMT_DATE, 255, false},
        {163, PS_FMT_GENERAL, 255, false},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        print_message("id %u\n", ids[i].id);
        numfmt f = ps_numfmt_builtin(ids[i].id);
        assert_int_equal(f.cls, ids[i].cls);
        assert_int_equal(f.decimals, ids[i].decimals);
        assert_int_equal(f.has_time, ids[i].has_time);
    }
}

static void test_format_codes(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        uint8_t cls, decimals;
        bool has_time;
    } codes[] = {
        {"0.00%", PS_FMT_PERCENT, 2, false},
        {"0%", PS_FMT_PERCENT, 0, false},
        {"#,##0.00", PS_FMT_NUMBER, 2, false},
        {"#,##0.00_);[Red](#,##0.00)", PS_FMT_NUMBER, 2, false},
        {"0.00\"万元\"", PS_FMT_NUMBER, 2, false},
        {"\"Day \"0", PS_FMT_NUMBER, 0, false},
        {"[Red]0.0", PS_FMT_NUMBER, 1, false},
        {"0.0E+00", PS_FMT_NUMBER, 1, false},
        {"yyyy\"年\"m\"月\"d\"日\"", PS_FMT_DATE, 255, false},
        {"[$-804]yyyy/m/d", PS_FMT_DATE, 255, false},
        {"yyyy-mm-dd hh:mm", PS_FMT_DATE, 255, true},
        {"[h]:mm:ss", PS_FMT_DATE, 255, true},
        {"h:mm AM/PM", PS_FMT_DATE, 255, true},
        {"@", PS_FMT_TEXT, 255, false},
        {"General", PS_FMT_GENERAL, 255, false},
        {"\"ymd\"0", PS_FMT_NUMBER, 0, false},       /* letters in quotes are literal text */
        {"\\d0.0", PS_FMT_NUMBER, 1, false},         /* so is an escaped one */
        {"0.00;[Red]yyyy", PS_FMT_NUMBER, 2, false}, /* only the first section counts */
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        print_message("code %s\n", codes[i].code);
        numfmt f = ps_numfmt_classify(codes[i].code, strlen(codes[i].code));
        assert_int_equal(f.cls, codes[i].cls);
        assert_int_equal(f.decimals, codes[i].decimals);
        assert_int_equal(f.has_time, codes[i].has_time);
    }
}

static void test_serial_dates(void **state)
{
    (void)state;
    static const struct {
        double serial;
        bool with_time;
        const char *iso;
    } dates[] = {
        {1, false, "1900-01-01"},
        {59, false, "1900-02-28"},
        {60, false, "1900-02-29"}, /* Excel's phantom leap day, as Excel shows it */
        {61, false, "1900-03-01"},
        {44651, false, "2022-03-31"},
        {44651, true, "2022-03-31T00:00:00"},    /* a format showing time shows midnight */
        {44651.5, false, "2022-03-31T12:00:00"}, /* a time the format hides is kept */
        {44651.99999999, false, "2022-04-01"},   /* rounds to the next day's midnight */
        {0.5, true, "12:00:00"},                 /* a time of day alone */
        {0, false, "00:00:00"},
        {2958465, false, "9999-12-31"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        print_message("serial %.8f\n", dates[i].serial);
        assert_true(ps_numfmt_serial_iso(dates[i].serial, dates[i].with_time, buf, sizeof buf));
        assert_string_equal(buf, dates[i].iso);
    }
    assert_false(ps_numfmt_serial_iso(-1, false, buf, sizeof buf));
    assert_false(ps_numfmt_serial_iso(2958466, false, buf, sizeof buf));
}

static void test_iso_dates(void **state)
{
    (void)state;
    static const struct {
        const char *iso;
        double serial;
    } dates[] = {{"2022-03-31", 44651},
                 {"2022-03-31T12:00:00", 44651.5},
                 {"2022-03-31 06:00", 44651.25},
                 {"1900-01-01", 1},
                 {"1900-03-01", 61},
                 {"12:00", 0.5},
                 {"2022-03-31T00:00:00Z", 44651}};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        print_message("iso %s\n", dates[i].iso);
        double serial = -1;
        assert_true(ps_numfmt_iso_serial(dates[i].iso, &serial));
        assert_true(serial == dates[i].serial);
    }
    static const char *bad[] = {"",           "2022",  "2022-13-01",  "2022-03-32",
                                "1899-12-31", "25:00", "2022-03-31X", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("bad '%s'\n", bad[i]);
        double serial;
        assert_false(ps_numfmt_iso_serial(bad[i], &serial));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_ids),
        cmocka_unit_test(test_format_codes),
        cmocka_unit_test(test_serial_dates),
        cmocka_unit_test(test_iso_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
