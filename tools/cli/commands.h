/* The dsvk subcommands. Each takes the arguments after its name (argv[0] is
 * the subcommand) and returns the process exit code. To add one: declare it
 * here and add a row to the table in main.c. */
#ifndef DSVK_CLI_COMMANDS_H
#define DSVK_CLI_COMMANDS_H

int cmd_devices(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
