/* The per-op GPU time table of dsvk bench: one step's dispatch timings
 * (dsvk_session_timings) grouped by op, most time first. */
#ifndef DSVK_CLI_OP_TABLE_H
#define DSVK_CLI_OP_TABLE_H

#include "dsvk.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Prints "title: TOTAL ms" and one row per op: label, calls, total ms and
 * % of the step. Returns false (after printing why) when out of memory. */
bool op_table_print(FILE *out, const char *title, const dsvk_op_timing *t,
                    uint32_t count);

#endif
