/* cfb.h - reading streams out of a compound file (MS-CFB, "OLE2"): the container of .xls,
 * .doc and .ppt files. Works on the whole file in memory, reads only what a stream needs, and
 * treats every number in the file as untrusted: sector chains that loop, point outside the
 * file or outrun the FAT, directory trees that cycle, sizes larger than the file. Private to
 * src/. */
#ifndef PERFSHEET_CFB_H
#define PERFSHEET_CFB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cfb cfb;

/* Parses the header, the FAT and the directory of data (len bytes, borrowed for the life of
 * the cfb). NULL on failure, with why (a short English phrase, for technical details)
 * filled in. */
cfb *ps_cfb_open(const uint8_t *data, size_t len, char *why, size_t why_size);
void ps_cfb_close(cfb *c); /* takes NULL */

/* The streams and storages directly in the root storage, in directory order. */
size_t ps_cfb_root_count(const cfb *c);
const char *ps_cfb_root_name(const cfb *c, size_t i); /* UTF-8 */
bool ps_cfb_root_is_stream(const cfb *c, size_t i);

/* Reads the root's stream i into *out (malloc'd, *len bytes). false, with why filled in, when
 * the stream is not one or its chain is broken or shorter than its size. */
bool ps_cfb_read_root_stream(const cfb *c, size_t i, uint8_t **out, size_t *len, char *why, size_t why_size);

#endif
