/* dsvk serve: an OpenAI-compatible HTTP server on the public API. */
#ifndef DSVK_SERVE_H
#define DSVK_SERVE_H

/* Runs the server with the arguments after "serve" (argv[0] is "serve")
 * until SIGINT or SIGTERM; returns the process exit code. */
int serve_main(int argc, char **argv);

#endif
