/* yaml_pos.h - where a YAML node starts, for errors that point into mapping files. Private. */
#ifndef PERFSHEET_YAML_POS_H
#define PERFSHEET_YAML_POS_H

struct fy_node;

/* 1-based line and column of n: its scalar's token, else the first scalar inside it (0, 0
 * when unknown). */
void ps_yaml_node_position(struct fy_node *n, int *line, int *col);

#endif
