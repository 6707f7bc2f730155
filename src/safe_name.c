/* safe_name.c - names that are safe on every file system and as Excel sheet names: the
 * `<unit>_<year>_<template>.xlsx` of a converted document, and sheet names (≤ 31 characters,
 * none of []:*?/\). Unit names come from untrusted cells, so every byte is checked. */
#include "perfsheet/writer.h"

#include "writer_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Length of the valid UTF-8 sequence at s (of at most n bytes), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    else if ((c & 0xE0) == 0xC0)
        len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Is the character at s (len bytes) blank at the ends of a name: ASCII space/tab, U+3000,
 * U+00A0? */
static bool is_blank(const unsigned char *s, size_t len)
{
    if (len == 1)
        return s[0] == ' ' || s[0] == '\t';
    if (len == 2)
        return s[0] == 0xC2 && s[1] == 0xA0;
    if (len == 3)
        return s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80;
    return false;
}

/* Copies in to out (size bytes, NUL-terminated) keeping only valid UTF-8 and replacing every
 * character in `bad` and every control character by '_'; trims blanks at both ends and
 * leading dots. Stops before a character that does not fit. Returns the length written. */
static size_t clean_part(const char *in, const char *bad, char *out, size_t size)
{
    size_t o = 0, n = in ? strlen(in) : 0;
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t i = 0;
    /* leading blanks and dots */
    while (i < n) {
        size_t l = utf8_seq(s + i, n - i);
        if (l && (is_blank(s + i, l) || (l == 1 && s[i] == '.')))
            i += l;
        else
            break;
    }
    size_t last_nonblank = 0; /* output length up to the last non-blank character */
    while (i < n) {
        size_t l = utf8_seq(s + i, n - i);
        const char *rep = (const char *)s + i;
        size_t rl = l;
        if (l == 0) {
            rep = "_", rl = 1, l = 1;
        } else if (l == 1 && (s[i] < 0x20 || s[i] == 0x7F || strchr(bad, s[i]))) {
            rep = "_", rl = 1;
        } else if (l == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0) { /* C1 controls */
            rep = "_", rl = 1;
        }
        if (o + rl + 1 > size)
            break;
        memcpy(out + o, rep, rl);
        o += rl;
        if (!is_blank((const unsigned char *)rep, rl))
            last_nonblank = o;
        i += l;
    }
    o = last_nonblank;
    if (size)
        out[o] = '\0';
    return o;
}

/* Cuts s back to at most max bytes at a UTF-8 boundary; returns the new length. */
static size_t utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
    return n;
}

static bool is_reserved(const char *stem, size_t len)
{
    static const char *const names[] = {"CON", "PRN", "AUX", "NUL", "CLOCK$"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (len == strlen(names[i]) && strncasecmp(stem, names[i], len) == 0)
            return true;
    if (len == 4 && (strncasecmp(stem, "COM", 3) == 0 || strncasecmp(stem, "LPT", 3) == 0) &&
        isdigit((unsigned char)stem[3]))
        return true;
    return false;
}

size_t ps_writer_safe_file_part(const char *in, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = clean_part(in, "/\\:*?\"<>|", buf, size);
    /* Windows drops trailing dots and spaces. */
    while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    size_t stem = strcspn(buf, ".");
    if (is_reserved(buf, stem) && n + 2 < size) {
        memmove(buf + 1, buf, n + 1);
        buf[0] = '_';
        n++;
    }
    return n;
}

ps_status ps_writer_document_name(const ps_document *doc, char *buf, size_t size)
{
    char unit[WRITER_NAME_MAX + 1], tmpl[64], year[32], tail[128];
    if (!buf || size < 16)
        return PS_ERR_USAGE;
    const char *u = ps_document_unit(doc);
    size_t ul = ps_writer_safe_file_part(u, unit, sizeof unit);
    if (ul == 0)
        snprintf(unit, sizeof unit, "未知单位");
    int y = ps_document_year(doc);
    if (y > 0)
        snprintf(year, sizeof year, "%d", y);
    else
        snprintf(year, sizeof year, "未知年度");
    if (ps_writer_safe_file_part(ps_document_template(doc), tmpl, sizeof tmpl) == 0)
        snprintf(tmpl, sizeof tmpl, "未知模板");
    snprintf(tail, sizeof tail, "_%s_%s.xlsx", year, tmpl);
    size_t max = size - 1 < WRITER_NAME_MAX ? size - 1 : WRITER_NAME_MAX;
    size_t tl = strlen(tail);
    if (tl + 1 > max)
        return PS_ERR_USAGE;
    utf8_cut(unit, max - tl);
    /* A cut may leave a trailing blank or dot. */
    ul = strlen(unit);
    while (ul > 0 && (unit[ul - 1] == ' ' || unit[ul - 1] == '.'))
        unit[--ul] = '\0';
    if (ul == 0)
        snprintf(unit, sizeof unit, "_");
    snprintf(buf, size, "%s%s", unit, tail);
    return PS_OK;
}

size_t ps_writer_sheet_name(const char *in, char *buf, size_t size)
{
    char tmp[WRITER_SHEET_BYTES + 1];
    if (size == 0)
        return 0;
    clean_part(in, "[]:*?/\\", tmp, sizeof tmp);
    /* at most 31 characters */
    size_t o = 0, chars = 0;
    size_t n = strlen(tmp);
    while (o < n && chars < 31) {
        size_t l = utf8_seq((const unsigned char *)tmp + o, n - o);
        if (l == 0)
            break;
        o += l;
        chars++;
    }
    tmp[o] = '\0';
    /* no apostrophe at either end */
    char *s = tmp;
    while (*s == '\'')
        s++;
    size_t sl = strlen(s);
    while (sl > 0 && s[sl - 1] == '\'')
        s[--sl] = '\0';
    if (sl == 0 || strcasecmp(s, "History") == 0)
        s = "Sheet";
    snprintf(buf, size, "%s", s);
    return strlen(buf);
}
