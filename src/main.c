/* main.c - the perfsheet executable: everything happens in cli.c. */
#include <stdlib.h> /* defines __GLIBC__ on glibc */
#ifdef __GLIBC__
#include <malloc.h>
#endif

int ps_cli_main(int argc, char **argv);

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* A batch allocates and frees the same few megabytes per file (a workbook, a document,
     * libxlsxwriter's worksheet). glibc's defaults hand the top of the heap back to the kernel
     * whenever 128 KB are free and map blocks over 128 KB apart, so every file paid for brk
     * calls and tens of thousands of page faults (convert: 250 per file). Keep freed memory
     * for the next file instead: the peak stays what one file needs per thread. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 1 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
    return ps_cli_main(argc, argv);
}
