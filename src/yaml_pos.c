/* yaml_pos.c - positions of YAML nodes; see yaml_pos.h. */
#include "yaml_pos.h"

#include <libfyaml.h>

void ps_yaml_node_position(struct fy_node *n, int *line, int *col)
{
    *line = 0;
    *col = 0;
    for (int depth = 0; n && depth < 64; depth++) {
        if (fy_node_is_scalar(n)) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *mk = t ? fy_token_start_mark(t) : NULL;
            if (mk) {
                *line = mk->line + 1;
                *col = mk->column + 1;
            }
            return;
        }
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            return;
        }
    }
}
