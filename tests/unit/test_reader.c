/* test_reader.c - ps_reader_open on the bad inputs (codes from tests/data/bad/expected.json, a
 * copy of samples/bad/expected.json), the messages that say what a file really is, and
 * ps_reader_sniff on small byte strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perfsheet/reader.h"

#define BAD "tests/data/bad/"

typedef struct expectation {
    char file[128];
    char code[64]; /* error_code, or "ok" */
} expectation;

/* Reads the top-level keys of expected.json with their expected_status / error_code. The file
 * is pretty-printed one key per line, which is all this needs. */
static size_t load_expected(expectation *out, size_t max)
{
    FILE *f = fopen(BAD "expected.json", "r");
    assert_non_null(f);
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char key[128], value[64];
        if (line[0] == ' ' && line[1] == '"' && sscanf(line, " \"%127[^\"]\": {", key) == 1) {
            assert_true(n < max);
            snprintf(out[n].file, sizeof out[n].file, "%s", key);
            out[n].code[0] = '\0';
            n++;
        } else if (n > 0 && sscanf(line, " \"expected_status\": \"%63[^\"]\"", value) == 1 &&
                   strcmp(value, "ok") == 0 && !out[n - 1].code[0]) {
            snprintf(out[n - 1].code, sizeof out[n - 1].code, "ok");
        } else if (n > 0 && sscanf(line, " \"error_code\": \"%63[^\"]\"", value) == 1) {
            snprintf(out[n - 1].code, sizeof out[n - 1].code, "%s", value);
        }
    }
    fclose(f);
    return n;
}

static ps_status open_status(const char *path, ps_error *err)
{
    ps_workbook *wb = NULL;
    ps_error_clear(err);
    ps_status st = ps_reader_open(path, NULL, &wb, err);
    if (st == PS_OK)
        assert_non_null(wb);
    else
        assert_null(wb);
    ps_workbook_free(wb);
    return st;
}

static void test_bad_files(void **state)
{
    expectation ex[32];
    size_t n = load_expected(ex, 32);
    assert_int_equal(n, 7);
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof path, BAD "%s", ex[i].file);
        /* no_template is the mapping's verdict: the reader must open that file */
        const char *want = strcmp(ex[i].code, "no_template") == 0 ? "ok" : ex[i].code;
        ps_error err;
        ps_status st = open_status(path, &err);
        print_message("%s: want %s, got %s (%s)\n", ex[i].file, want, ps_error_code_name(st), err.message);
        assert_string_equal(ps_error_code_name(st), want);
        if (st != PS_OK) {
            assert_string_equal(err.file, path); /* the error names the file */
            assert_true(err.message[0] != '\0');
        }
    }
}

static void test_messages(void **state)
{
    ps_error err;
    assert_int_equal(open_status(BAD "html-table.xls", &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "HTML"));
    assert_non_null(strstr(err.message, ".xls"));

    assert_int_equal(open_status(BAD "csv-gbk.xls", &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "CSV"));
    assert_non_null(strstr(err.message, "文本"));
    assert_non_null(strstr(err.message, "GBK"));

    assert_int_equal(open_status(BAD "ods-renamed.xls", &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "OpenDocument"));

    assert_int_equal(open_status(BAD "xml2003-1900.xml", &err), PS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "XML 电子表格 2003"));

    assert_int_equal(open_status(BAD "empty.xls", &err), PS_ERR_NOT_A_SPREADSHEET);
    assert_int_equal(open_status(BAD "random-bytes.xls", &err), PS_ERR_NOT_A_SPREADSHEET);
}

static void test_io_errors(void **state)
{
    ps_error err;
    assert_int_equal(open_status(BAD "no-such-file.xls", &err), PS_ERR_IO);
    assert_non_null(strstr(err.message, "不存在"));
    assert_string_equal(err.file, BAD "no-such-file.xls");

    assert_int_equal(open_status("tests/data/bad", &err), PS_ERR_IO);
    assert_non_null(strstr(err.message, "文件夹"));
}

/* Reading never modifies the file. */
static void test_file_untouched(void **state)
{
    struct stat before, after;
    assert_int_equal(stat(BAD "xlsx-renamed.xls", &before), 0);
    ps_error err;
    assert_int_equal(open_status(BAD "xlsx-renamed.xls", &err), PS_OK);
    assert_int_equal(stat(BAD "xlsx-renamed.xls", &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_true(before.st_mtime == after.st_mtime);
}

static const struct {
    const char *bytes;
    size_t n; /* 0: strlen */
    ps_sniffed want;
} sniffs[] = {
    {"", 0, PS_SNIFF_EMPTY},
    {" \r\n\t ", 0, PS_SNIFF_EMPTY},
    {"\xEF\xBB\xBF\n", 0, PS_SNIFF_EMPTY},
    {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0", 12, PS_SNIFF_OLE2},
    {"\xD0\xCF\x11\xE0\xA1\xB1\x1A", 7, PS_SNIFF_UNKNOWN}, /* cut magic */
    {"PK\x03\x04\x14\0\0\0", 8, PS_SNIFF_ZIP},
    {"PK\x05\x06\0\0\0\0", 8, PS_SNIFF_ZIP},
    {"\x09\x00\x04\x00\x02\x00\x10\x00", 8, PS_SNIFF_BIFF_BARE},          /* BIFF2 worksheet */
    {"\x09\x04\x06\x00\x00\x00\x10\x00\x00\x00", 10, PS_SNIFF_BIFF_BARE}, /* BIFF4 */
    {"\x09\x08\x10\x00\x00\x06\x05\x00", 8, PS_SNIFF_BIFF_BARE},          /* BIFF8 globals */
    {"\x09\x08\xFF\x7F\x00\x06\x05\x00", 8, PS_SNIFF_UNKNOWN},            /* absurd length */
    {"<html><body><table>", 0, PS_SNIFF_HTML},
    {"\xEF\xBB\xBF  \r\n<!DOCTYPE HTML PUBLIC", 0, PS_SNIFF_HTML},
    {"<TABLE border=1><tr><td>1</td></tr>", 0, PS_SNIFF_HTML},
    {"<meta http-equiv=\"Content-Type\">", 0, PS_SNIFF_HTML},
    {"MIME-Version: 1.0\r\nContent-Type: multipart/related", 0, PS_SNIFF_HTML},
    {"<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">", 0, PS_SNIFF_HTML},
    {"<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"><Table>", 0,
     PS_SNIFF_XML},
    {"<?xml version=\"1.0\"?><root/>", 0, PS_SNIFF_XML},
    {"\x1F\x8B\x08\x00", 4, PS_SNIFF_GZIP},
    {"%PDF-1.7\n", 0, PS_SNIFF_PDF},
    {"a,b,c\n1,2,3\n", 0, PS_SNIFF_TEXT},
    {"\xCF\xEE\xC4\xBF,2021\xC4\xEA\r\n", 0, PS_SNIFF_TEXT}, /* GBK 项目,2021年 */
    {"\xE9\xA1\xB9\xE7\x9B\xAE\t2021\n", 0, PS_SNIFF_TEXT},  /* UTF-8 项目<TAB>2021 */
    {"\xFF\xFE"
     "a\0,\0b\0\r\0\n\0",
     12, PS_SNIFF_TEXT}, /* UTF-16LE */
    {"\xFF\xFE<\0h\0t\0m\0l\0>\0", 14, PS_SNIFF_HTML},
    {"just words without separators", 0, PS_SNIFF_UNKNOWN},
    {"a,b\x01\x02\x03\x04\x05\x06\x07", 0, PS_SNIFF_UNKNOWN}, /* control bytes */
    {"a,b\0c", 5, PS_SNIFF_UNKNOWN},                          /* NUL */
    {"\x80\x81\xFF,\xFE", 0, PS_SNIFF_UNKNOWN},               /* neither UTF-8 nor GBK */
};

static void test_sniff(void **state)
{
    for (size_t i = 0; i < sizeof sniffs / sizeof sniffs[0]; i++) {
        size_t n = sniffs[i].n ? sniffs[i].n : strlen(sniffs[i].bytes);
        print_message("row %zu\n", i);
        assert_int_equal(ps_reader_sniff((const unsigned char *)sniffs[i].bytes, n), sniffs[i].want);
    }
}

static void test_default_limits(void **state)
{
    ps_limits l = ps_reader_default_limits();
    assert_int_equal(l.max_cells_per_sheet, 2000000);
    assert_int_equal(l.max_cells_per_file, 5000000);
    assert_int_equal(l.max_sheets, 256);
    assert_int_equal(l.max_rows, 1048576);
    assert_int_equal(l.max_cols, 16384);
    assert_int_equal(l.max_string_bytes, 1 << 20);
    assert_int_equal(l.max_sst_entries, 2000000);
    assert_int_equal(l.max_uncompressed, 256 << 20);
    assert_int_equal(l.max_zip_ratio, 200);
    assert_int_equal(l.max_zip_entries, 10000);
    assert_int_equal(l.max_xml_depth, 256);
    assert_int_equal(l.max_file_bytes, 256 << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files), cmocka_unit_test(test_messages),
        cmocka_unit_test(test_io_errors), cmocka_unit_test(test_file_untouched),
        cmocka_unit_test(test_sniff),     cmocka_unit_test(test_default_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
