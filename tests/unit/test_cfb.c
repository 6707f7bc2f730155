/* test_cfb.c - compound files (cfb.c) built sector by sector: streams in regular and mini
 * sectors, a last sector cut short, and the damage that must not loop or read outside the
 * file: FAT chains that loop or end early, directory trees that cycle, absurd counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cfb.h"

enum { SS = 512, END = 0xFFFFFFFE, FREE = 0xFFFFFFFF, FATSECT = 0xFFFFFFFD, BIG = 5000, SMALL = 100 };

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16));
}

static void dir_entry(uint8_t *e, const char *name, uint8_t type, uint32_t left, uint32_t right,
                      uint32_t child, uint32_t start, uint32_t size)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++)
        put16(e + 2 * i, (uint8_t)name[i]);
    put16(e + 0x40, (uint16_t)(2 * n + 2));
    e[0x42] = type;
    put32(e + 0x44, left);
    put32(e + 0x48, right);
    put32(e + 0x4C, child);
    put32(e + 0x74, start);
    put32(e + 0x78, size);
}

/* A version 3 file: sector 0 the FAT, 1 the directory (root, "Workbook" of BIG bytes in
 * sectors 2-11, "Small" of SMALL bytes in the mini stream, "Other" an empty storage), 12 the
 * mini FAT, 13 the mini stream. Byte i of Workbook is i % 251, of Small 200 + i % 50. */
static uint8_t *build(size_t *len)
{
    size_t n = 512 + 14 * SS;
    uint8_t *f = calloc(1, n);
    static const uint8_t magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    memcpy(f, magic, 8);
    put16(f + 0x18, 0x3E);
    put16(f + 0x1A, 3);
    put16(f + 0x1C, 0xFFFE);
    put16(f + 0x1E, 9);
    put16(f + 0x20, 6);
    put32(f + 0x2C, 1); /* FAT sectors */
    put32(f + 0x30, 1); /* first directory sector */
    put32(f + 0x38, 4096);
    put32(f + 0x3C, 12); /* first mini FAT sector */
    put32(f + 0x40, 1);
    put32(f + 0x44, END); /* no DIFAT sectors */
    put32(f + 0x4C, 0);   /* the FAT is sector 0 */
    for (int i = 1; i < 109; i++)
        put32(f + 0x4C + 4 * i, FREE);
    uint8_t *fat = f + 512;
    for (uint32_t i = 0; i < SS / 4; i++)
        put32(fat + 4 * i, FREE);
    put32(fat, FATSECT);
    put32(fat + 4, END);
    for (uint32_t s = 2; s < 11; s++)
        put32(fat + 4 * s, s + 1);
    put32(fat + 4 * 11, END);
    put32(fat + 4 * 12, END);
    put32(fat + 4 * 13, END);
    uint8_t *dir = f + 512 + SS;
    dir_entry(dir, "Root Entry", 5, FREE, FREE, 2, 13, 128);
    dir_entry(dir + 128, "Other", 1, FREE, FREE, FREE, 0, 0);
    dir_entry(dir + 256, "Workbook", 2, 1, 3, FREE, 2, BIG);
    dir_entry(dir + 384, "Small", 2, FREE, FREE, FREE, 0, SMALL);
    for (size_t i = 0; i < BIG; i++)
        f[512 + 2 * SS + i] = (uint8_t)(i % 251);
    uint8_t *minifat = f + 512 + 12 * SS;
    for (uint32_t i = 0; i < SS / 4; i++)
        put32(minifat + 4 * i, FREE);
    put32(minifat, 1);
    put32(minifat + 4, END);
    for (size_t i = 0; i < SMALL; i++)
        f[512 + 13 * SS + i] = (uint8_t)(200 + i % 50);
    *len = n;
    return f;
}

static size_t find(const cfb *c, const char *name)
{
    for (size_t i = 0; i < ps_cfb_root_count(c); i++)
        if (!strcmp(ps_cfb_root_name(c, i), name))
            return i;
    return SIZE_MAX;
}

static void test_streams(void **state)
{
    (void)state;
    size_t len;
    uint8_t *f = build(&len);
    char why[160];
    cfb *c = ps_cfb_open(f, len, why, sizeof why);
    assert_non_null(c);
    assert_int_equal(ps_cfb_root_count(c), 3); /* in tree order: Other, Workbook, Small */
    assert_string_equal(ps_cfb_root_name(c, 0), "Other");
    assert_string_equal(ps_cfb_root_name(c, 1), "Workbook");
    assert_string_equal(ps_cfb_root_name(c, 2), "Small");
    assert_false(ps_cfb_root_is_stream(c, 0));
    uint8_t *data;
    size_t n;
    assert_false(ps_cfb_read_root_stream(c, 0, &data, &n, why, sizeof why));
    assert_true(ps_cfb_read_root_stream(c, find(c, "Workbook"), &data, &n, why, sizeof why));
    assert_int_equal(n, BIG);
    for (size_t i = 0; i < BIG; i++)
        assert_int_equal(data[i], i % 251);
    free(data);
    assert_true(ps_cfb_read_root_stream(c, find(c, "Small"), &data, &n, why, sizeof why));
    assert_int_equal(n, SMALL);
    for (size_t i = 0; i < SMALL; i++)
        assert_int_equal(data[i], 200 + i % 50);
    free(data);
    ps_cfb_close(c);
    free(f);
}

/* The file ends inside the Workbook stream's last sector, after its last byte: it reads. One
 * byte fewer and the stream is cut: an error, not bytes from nowhere. */
static void test_short_last_sector(void **state)
{
    (void)state;
    size_t len;
    uint8_t *f = build(&len);
    /* move the mini stream's sectors away: make Workbook's sector 11 the file's last */
    size_t cut = 512 + 11 * SS + (BIG - 9 * SS);
    uint8_t *g = malloc(cut);
    memcpy(g, f, cut);
    put32(g + 0x3C, END); /* no mini FAT: its sector is cut off too */
    put32(g + 0x40, 0);
    char why[160];
    cfb *c = ps_cfb_open(g, cut, why, sizeof why);
    assert_non_null(c);
    uint8_t *data;
    size_t n;
    assert_true(ps_cfb_read_root_stream(c, find(c, "Workbook"), &data, &n, why, sizeof why));
    assert_int_equal(n, BIG);
    assert_int_equal(data[BIG - 1], (BIG - 1) % 251);
    free(data);
    ps_cfb_close(c);
    c = ps_cfb_open(g, cut - 1, why, sizeof why);
    assert_non_null(c);
    assert_false(ps_cfb_read_root_stream(c, find(c, "Workbook"), &data, &n, why, sizeof why));
    assert_non_null(strstr(why, "beyond the end of the file"));
    ps_cfb_close(c);
    free(g);
    free(f);
}

static void expect_open_fails(uint8_t *f, size_t len, const char *phrase)
{
    char why[160] = "";
    cfb *c = ps_cfb_open(f, len, why, sizeof why);
    print_message("why: %s\n", why);
    assert_null(c);
    assert_non_null(strstr(why, phrase));
}

static void expect_read_fails(uint8_t *f, size_t len, const char *stream, const char *phrase)
{
    char why[160] = "";
    cfb *c = ps_cfb_open(f, len, why, sizeof why);
    assert_non_null(c);
    uint8_t *data = NULL;
    size_t n = 0;
    assert_false(ps_cfb_read_root_stream(c, find(c, stream), &data, &n, why, sizeof why));
    print_message("why: %s\n", why);
    assert_non_null(strstr(why, phrase));
    ps_cfb_close(c);
}

static void test_damage(void **state)
{
    (void)state;
    size_t len;
    uint8_t *f;

    f = build(&len); /* a FAT chain that comes back on itself */
    put32(f + 512 + 4 * 6, 3);
    expect_read_fails(f, len, "Workbook", "loops");
    free(f);

    f = build(&len); /* a chain that ends before the stream's size */
    put32(f + 512 + 4 * 6, END);
    expect_read_fails(f, len, "Workbook", "chain ends after 2560 of 5000 bytes");
    free(f);

    f = build(&len); /* a stream larger than the file */
    put32(f + 512 + SS + 256 + 0x78, 0x7FFFFFFF);
    expect_read_fails(f, len, "Workbook", "in a file of");
    free(f);

    f = build(&len); /* a mini chain that loops */
    put32(f + 512 + 12 * SS, 0);
    expect_read_fails(f, len, "Small", "mini sector chain loops");
    free(f);

    f = build(&len); /* a sector number past the FAT */
    put32(f + 512 + 4 * 3, 1000000);
    expect_read_fails(f, len, "Workbook", "chain ends");
    free(f);

    f = build(&len); /* the header claims millions of FAT sectors */
    put32(f + 0x2C, 8388609);
    expect_open_fails(f, len, "8388609 FAT sectors in a file of");
    free(f);

    f = build(&len); /* the FAT's only sector lies beyond the end */
    put32(f + 0x4C, 5000);
    expect_open_fails(f, len, "FAT sector 5000 lies beyond the end");
    free(f);

    f = build(&len); /* a directory chain that loops */
    put32(f + 512 + 4, 1);
    expect_open_fails(f, len, "directory chain broken");
    free(f);

    f = build(&len); /* sector sizes no writer uses */
    put16(f + 0x1E, 30);
    expect_open_fails(f, len, "unreasonable sector sizes");
    free(f);

    f = build(&len); /* not a compound file at all, and too short for one */
    expect_open_fails(f, 100, "shorter than a compound file header");
    f[0] = 'P';
    expect_open_fails(f, len, "no compound file signature");
    free(f);
}

/* Sibling links that cycle (Workbook's right sibling is Other, whose left is Workbook again):
 * each entry is listed once and the walk ends. */
static void test_directory_cycle(void **state)
{
    (void)state;
    size_t len;
    uint8_t *f = build(&len);
    uint8_t *dir = f + 512 + SS;
    put32(dir + 256 + 0x48, 1); /* Workbook.right = Other */
    put32(dir + 128 + 0x44, 2); /* Other.left = Workbook */
    put32(dir + 128 + 0x48, 2); /* Other.right = Workbook */
    char why[160];
    cfb *c = ps_cfb_open(f, len, why, sizeof why);
    assert_non_null(c);
    assert_true(ps_cfb_root_count(c) <= 3);
    assert_true(find(c, "Workbook") != SIZE_MAX);
    ps_cfb_close(c);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_short_last_sector),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_directory_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
