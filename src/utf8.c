/* utf8.c - UTF-8 checks; see utf8.h. */
#include "utf8.h"

bool ps_utf8_find_invalid(const char *text, size_t len, int *line, int *col)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, line_start = 0;
    int ln = 1;
    while (i < len) {
        unsigned c = p[i];
        size_t k = 0;
        if (c == '\n') {
            ln++;
            line_start = i + 1;
        }
        if (c >= 0x80) {
            unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
            if (c >= 0xC2 && c <= 0xDF)
                k = 1;
            else if (c >= 0xE0 && c <= 0xEF)
                k = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            else if (c >= 0xF0 && c <= 0xF4)
                k = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
            bool ok = k > 0 && len - i > k && p[i + 1] >= lo && p[i + 1] <= hi;
            for (size_t j = 2; ok && j <= k; j++)
                ok = (p[i + j] & 0xC0) == 0x80;
            if (!ok) {
                int cl = 1; /* characters before i on its line */
                for (size_t j = line_start; j < i; j++)
                    cl += (p[j] & 0xC0) != 0x80;
                *line = ln;
                *col = cl;
                return true;
            }
        }
        i += k + 1;
    }
    return false;
}
