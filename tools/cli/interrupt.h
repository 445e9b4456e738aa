/* Ctrl-C for the commands that evaluate a model (run, chat, bench). The
 * first SIGINT only sets a flag, which their loops read between steps to
 * stop cleanly at the next one; a second SIGINT before the command re-arms
 * kills the process the default way, the escape hatch when a step hangs. */
#ifndef DSVK_CLI_INTERRUPT_H
#define DSVK_CLI_INTERRUPT_H

#include <stdbool.h>

/* The exit status of a command stopped by Ctrl-C: 128 + SIGINT, what a
 * shell reports for a process that SIGINT killed. */
#define INTERRUPT_EXIT_CODE 130

/* Clears the flag and installs the handler, again after each Ctrl-C that
 * was handled, to catch the next one. Leaves SIGINT ignored when it was
 * ignored at startup (nohup, a background job of a script). */
void interrupt_arm(void);

/* Whether Ctrl-C was pressed since the last interrupt_arm. Cheap enough
 * to call per token. */
bool interrupt_requested(void);

/* Waits until `fd` has something to read (data or its end): true, or
 * false at Ctrl-C. For a prompt that Ctrl-C must leave even when the
 * signal reaches another thread of the process. */
bool interrupt_wait_readable(int fd);

#endif
