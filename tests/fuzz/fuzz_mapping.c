/* fuzz_mapping.c - libFuzzer target: a mapping file (YAML, docs/mapping.md) through
 * mapping_load_text; when it loads, its fields and rules are read back and it detects and
 * extracts against a fixed workbook (samples/hengyang-county-2021/both.xls, both templates),
 * so hostile matchers, anchors and tables run against real cells. */
#include "fuzz_common.h"

#include "perfsheet/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef PS_SOURCE_DIR
#define PS_SOURCE_DIR "."
#endif

static ps_workbook *fixed_wb;
static int fixed_tried;

static const ps_workbook *fixed_workbook(void)
{
    if (!fixed_tried) {
        fixed_tried = 1;
        ps_error err;
        if (reader_open(PS_SOURCE_DIR "/samples/hengyang-county-2021/both.xls", NULL, &fixed_wb, &err) &&
            reader_open("samples/hengyang-county-2021/both.xls", NULL, &fixed_wb, &err))
            fixed_wb = NULL; /* fuzz the loader alone */
    }
    return fixed_wb;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ps_workbook *wb = fixed_workbook();
    ps_mapping *m = NULL;
    ps_error err;
    error_clear(&err);
    if (mapping_load_text("fuzz.yaml", (const char *)data, size, &m, &err) != PS_OK) {
        if (!err.message[0])
            abort(); /* every failure must say why */
        return 0;
    }
    volatile size_t sink = strlen(mapping_id(m)) + strlen(mapping_title(m)) + strlen(mapping_path(m));
    for (size_t i = 0; i < mapping_field_count(m); i++) {
        const ps_field_spec *f = mapping_field(m, i);
        sink += strlen(f->key) + (f->label ? strlen(f->label) : 0) + (f->table ? strlen(f->table) : 0);
    }
    (void)sink;

    ps_ruleset *rules = NULL;
    if (ruleset_from_node(mapping_section(m, "rules"), "fuzz.yaml", &rules, &err) != PS_OK)
        rules = NULL;

    if (wb && mapping_detectable(m)) {
        for (size_t s = 0; s < workbook_sheet_count(wb); s++) {
            ps_document *doc = mapping_extract_sheet(m, wb, workbook_sheet(wb, s), "both.xls");
            if (!doc)
                continue;
            for (size_t i = 0; rules && i < ruleset_count(rules); i++)
                rule_eval(ruleset_at(rules, i), doc, &err);
            document_free(doc);
        }
    }
    ruleset_free(rules);
    mapping_free(m);
    return 0;
}
