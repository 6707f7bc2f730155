/* utf8.h - UTF-8 checks shared by the text parsers. Private to src/. */
#ifndef PERFSHEET_UTF8_H
#define PERFSHEET_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The first byte of text[0..len) that is not part of a well-formed UTF-8 sequence, as a
 * 1-based line and column (in characters); false when the text is all UTF-8. libfyaml 0.7.12
 * loops forever on a directive line ("%…") holding a malformed sequence, so YAML text (mapping
 * files, rules) is checked with this before it is parsed. */
bool ps_utf8_find_invalid(const char *text, size_t len, int *line, int *col);

#endif
