/* test_report_html.c - the HTML report's file handling and markup on a real sample: written under
 * a temporary name and renamed (nothing else left in the folder), nothing left behind on abort or
 * on an unwritable path, the flagged cell shown as typed (「　100%」 is text with a full-width
 * space) inside its merged grid, an unreadable file's error escaped. What a browser shows is
 * checked on the rendered page by tests/cli/report.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "perfsheet/check.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"
#include "perfsheet/report_html.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    ps_mapping_set *set;
    ps_checker *checker;
    ps_workbook *wb;
    ps_document **docs;
    size_t ndocs;
    char dir[64];
} fixture;

static const char *const sample = "samples/hengyang-county-2021/jcsj.xls";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ps_error err;
    assert_non_null(f);
    assert_int_equal(ps_mapping_set_load(NULL, &f->set, &err), PS_OK);
    assert_int_equal(ps_checker_new(f->set, &f->checker, &err), PS_OK);
    assert_int_equal(ps_reader_open(sample, NULL, &f->wb, &err), PS_OK);
    assert_int_equal(ps_mapping_extract_workbook(f->set, f->wb, sample, &f->docs, &f->ndocs, &err), PS_OK);
    for (size_t k = 0; k < f->ndocs; k++)
        assert_int_equal(ps_checker_check_document(f->checker, f->docs[k], &err), PS_OK);
    strcpy(f->dir, "/tmp/ps-report-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char path[128];
    DIR *d = opendir(f->dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(f->dir);
    for (size_t k = 0; k < f->ndocs; k++)
        ps_document_free(f->docs[k]);
    free(f->docs);
    ps_workbook_free(f->wb);
    ps_checker_free(f->checker);
    ps_mapping_set_free(f->set);
    free(f);
    return 0;
}

/* The names in dir, "|"-separated, in readdir order (one or none expected). */
static void list_dir(const char *dir, char *buf, size_t size)
{
    buf[0] = '\0';
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? "|" : "", e->d_name);
    if (d)
        closedir(d);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    fclose(fp);
    return s;
}

static ps_error unreadable(void)
{
    ps_error e;
    ps_error_set(&e, PS_ERR_CORRUPT, "<b>bad.xls", "文件已损坏 <script>alert(1)</script> & \"x\"");
    return e;
}

static void test_close_renames_complete_page(void **state)
{
    fixture *f = *state;
    char out[128], names[512];
    snprintf(out, sizeof out, "%s/report.html", f->dir);
    ps_report *r = NULL;
    ps_error err, bad = unreadable();
    assert_int_equal(ps_report_open(f->set, out, &r, &err), PS_OK);
    assert_int_equal(ps_report_add_file(r, "<b>bad.xls", NULL, NULL, 0, &bad, &err), PS_OK);
    assert_int_equal(ps_report_add_file(r, sample, f->wb, f->docs, f->ndocs, NULL, &err), PS_OK);
    assert_int_not_equal(access(out, F_OK), 0); /* nothing at out before close */
    assert_int_equal(ps_report_close(r, &err), PS_OK);
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "report.html");

    char *html = slurp(out);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "</html>\n"));
    /* the error and the file name as text, never as markup */
    assert_null(strstr(html, "<script>alert"));
    assert_null(strstr(html, "<b>bad"));
    assert_non_null(strstr(html, "文件已损坏 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
    assert_non_null(strstr(html, "&lt;b&gt;bad.xls"));
    /* 控制率 D5 holds the text 「　100%」 as typed, highlighted; 财政供养人员情况 is merged A4:A5 */
    assert_non_null(strstr(html, "<span class=\"ref\">基础数据表!D5</span>"));
    assert_non_null(strstr(html, "<td class=\"h\">　100%"));
    assert_non_null(strstr(html, "<td rowspan=\"2\">财政供养人员情况"));
    /* totals: 4 errors, the unreadable file under its reason */
    assert_non_null(strstr(html, "<b>4</b>错误"));
    assert_non_null(strstr(html, "文件已损坏 <span class=\"rule\">corrupt</span>"));
    free(html);
}

static void test_abort_leaves_nothing(void **state)
{
    fixture *f = *state;
    char out[128], names[512];
    snprintf(out, sizeof out, "%s/report.html", f->dir);
    ps_report *r = NULL;
    ps_error err;
    assert_int_equal(ps_report_open(f->set, out, &r, &err), PS_OK);
    assert_int_equal(ps_report_add_file(r, sample, f->wb, f->docs, f->ndocs, NULL, &err), PS_OK);
    ps_report_abort(r);
    ps_report_abort(NULL);
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "");
}

static void test_unwritable_path_is_an_error(void **state)
{
    fixture *f = *state;
    char out[128], names[512];
    snprintf(out, sizeof out, "%s/no/such/folder/report.html", f->dir);
    ps_report *r = NULL;
    ps_error err;
    assert_int_equal(ps_report_open(f->set, out, &r, &err), PS_ERR_IO); /* before any work */
    assert_null(r);
    assert_string_equal(err.file, out);
    list_dir(f->dir, names, sizeof names);
    assert_string_equal(names, "");
}

/* Findings without a workbook (it could not be read again): shown, with no grid. */
static void test_findings_without_workbook(void **state)
{
    fixture *f = *state;
    char out[128];
    snprintf(out, sizeof out, "%s/report.html", f->dir);
    ps_report *r = NULL;
    ps_error err;
    assert_int_equal(ps_report_open(f->set, out, &r, &err), PS_OK);
    assert_int_equal(ps_report_add_file(r, sample, NULL, f->docs, f->ndocs, NULL, &err), PS_OK);
    assert_int_equal(ps_report_close(r, &err), PS_OK);
    char *html = slurp(out);
    assert_non_null(strstr(html, "控制率应为 98.25%（112/114），表中为 100.00%"));
    assert_null(strstr(html, "<table class=\"g\">"));
    assert_non_null(strstr(html, "无法再次读取此文件"));
    free(html);
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_renames_complete_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_path_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_findings_without_workbook, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
