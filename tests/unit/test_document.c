/* test_document.c - documents: encode/decode round trips on every sample document, damaged
 * encodings refused, footprint of values and tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfsheet/check.h"
#include "perfsheet/document.h"
#include "perfsheet/mapping.h"
#include "perfsheet/reader.h"
#include "perfsheet/report_json.h"

static const char *sample_files[] = {
    "samples/hengyang-county-2021/both.xls",   "samples/hengyang-county-2021/zpb-biff5.xls",
    "samples/hengyang-county-2021/jcsj.xlsx",  "samples/synthetic/u04-shiwan/jcsj.xls",
    "samples/synthetic/u04-shiwan/zpb.xls",    "samples/synthetic/u09-zhuyuan/zpb.xls",
    "samples/synthetic/u10-guichuan/jcsj.xls", "samples/synthetic/u12-lanxi/zpb.xls",
    "samples/synthetic/u08-songxi/jcsj.xls",   "samples/synthetic/u02-yuntai/zpb.xls",
};

/* The full JSON of a document (values, sources, tables, findings): what must survive. */
static char *render(ps_document *doc)
{
    ps_buf b = {0};
    ps_report_file_json(&b, "f", NULL, &doc, 1, true, true);
    return b.data;
}

static void test_round_trip_on_samples(void **state)
{
    ps_mapping_set *set = NULL;
    ps_checker *checker = NULL;
    ps_error err;
    assert_int_equal(ps_mapping_set_load(NULL, &set, &err), PS_OK);
    assert_int_equal(ps_checker_new(set, &checker, &err), PS_OK);
    size_t docs_seen = 0, findings_seen = 0;
    for (size_t i = 0; i < sizeof sample_files / sizeof sample_files[0]; i++) {
        print_message("file %s\n", sample_files[i]);
        ps_workbook *wb = NULL;
        assert_int_equal(ps_reader_open(sample_files[i], NULL, &wb, &err), PS_OK);
        ps_document **docs = NULL;
        size_t n = 0;
        assert_int_equal(ps_mapping_extract_workbook(set, wb, sample_files[i], &docs, &n, &err), PS_OK);
        ps_workbook_free(wb);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(ps_checker_check_document(checker, docs[k], &err), PS_OK);
            findings_seen += ps_findings_count(ps_document_findings(docs[k]));
            char *data = NULL;
            size_t len = 0;
            assert_true(ps_document_encode(docs[k], &data, &len));
            ps_document *back = ps_document_decode(data, len);
            assert_non_null(back);
            char *want = render(docs[k]), *got = render(back);
            assert_string_equal(got, want);
            assert_string_equal(ps_document_file(back), ps_document_file(docs[k]));
            assert_string_equal(ps_document_mapping(back), ps_document_mapping(docs[k]));
            /* blank cells survive too (the 公务用车 subtotal of Hengyang points at B10) */
            uint32_t r1, c1, r2, c2;
            bool b1 = ps_document_blank_cell(docs[k], "vehicle.final", &r1, &c1);
            bool b2 = ps_document_blank_cell(back, "vehicle.final", &r2, &c2);
            assert_int_equal(b1, b2);
            if (b1) {
                assert_int_equal(r1, r2);
                assert_int_equal(c1, c2);
            }
            /* every cut of the encoding is refused, never misread */
            for (size_t cut = 0; cut < len; cut += 1 + len / 97)
                assert_null(ps_document_decode(data, cut));
            free(want);
            free(got);
            free(data);
            ps_document_free(back);
            ps_document_free(docs[k]);
            docs_seen++;
        }
        free(docs);
    }
    assert_true(docs_seen >= 11);
    assert_true(findings_seen > 10); /* the samples carry real findings: they round-trip too */
    assert_null(ps_document_decode("PSD", 3));
    assert_null(ps_document_decode("garbage-bytes-here", 18));
    ps_checker_free(checker);
    ps_mapping_set_free(set);
}

/* Lists of every length, so that both lookups (a scan while short, the hash index once
 * longer) and the index's growth and rebuild after ps_document_unset are exercised; a model
 * (an array of what each key should hold) says what every lookup must find. */
static void test_many_keys(void **state)
{
    enum { NKEYS = 300 };
    ps_document *d = ps_document_new("t", "m.yaml", "f.xls", "表");
    assert_non_null(d);
    ps_table *tab = ps_document_add_table(d, "rows");
    assert_int_equal(ps_table_add_row(tab), 0);
    static double want[NKEYS]; /* 0: absent */
    char key[32];
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < NKEYS; k++) {
            if ((k + round) % 3)
                continue;
            snprintf(key, sizeof key, "field.%d", k);
            ps_value v = ps_value_number(PS_TYPE_NUMBER, k * 10.0 + round + 1, 1, 2);
            assert_true(ps_document_set(d, key, &v));
            assert_true(ps_table_set(tab, 0, key, &v));
            want[k] = v.number;
        }
        for (int k = 0; k < NKEYS; k += 7) { /* from the middle of the list: the rest moves up */
            snprintf(key, sizeof key, "field.%d", k);
            ps_document_unset(d, key);
            want[k] = 0;
        }
        size_t present = 0;
        for (int k = 0; k < NKEYS; k++) {
            snprintf(key, sizeof key, "field.%d", k);
            const ps_value *v = ps_document_get(d, key);
            if (!want[k]) {
                assert_null(v);
                continue;
            }
            present++;
            assert_non_null(v);
            if (v->number != want[k])
                print_message("round %d: %s is %g, want %g\n", round, key, v->number, want[k]);
            assert_true(v->number == want[k]);
            const ps_value *t = ps_table_get(tab, 0, key);
            assert_non_null(t);
            assert_true(t->number == want[k]);
        }
        assert_int_equal(ps_document_value_count(d), present);
        assert_null(ps_document_get(d, "field.x"));
    }
    /* first set, first written: the values keep their insertion order (round by round) */
    size_t i = 0;
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < NKEYS; k++)
            if ((k + round) % 3 == 0 && k % 7) {
                snprintf(key, sizeof key, "field.%d", k);
                assert_string_equal(ps_document_value_key(d, i), key);
                i++;
            }
    assert_int_equal(i, ps_document_value_count(d));
    assert_true(ps_document_set_blank_cell(d, "blank.1", 4, 5));
    uint32_t r, c;
    assert_true(ps_document_blank_cell(d, "blank.1", &r, &c));
    assert_int_equal(r * 100 + c, 405);
    ps_document_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_on_samples),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
