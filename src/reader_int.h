/* reader_int.h - what the format readers share. Private to src/. */
#ifndef PERFSHEET_READER_INT_H
#define PERFSHEET_READER_INT_H

/* Initialises libgsf, libxml2 and the GLib log capture exactly once per process, whichever
 * reader and thread comes first: gsf_init() itself is not thread-safe, so both readers must
 * go through this one pthread_once. Defined in reader_xls.c next to the log capture. */
void reader_libs_init(void);

#endif
