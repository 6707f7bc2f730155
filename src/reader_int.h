/* reader_int.h - what the format readers share. Private to src/. */
#ifndef PERFSHEET_READER_INT_H
#define PERFSHEET_READER_INT_H

/* Initialises libxml2 exactly once per process, whichever reader and thread comes first
 * (xmlInitParser is not thread-safe when raced). Defined in reader.c. */
void ps_reader_libs_init(void);

#endif
