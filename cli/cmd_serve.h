/* cmd_serve.h -- `espigate serve`, the Connect-My-Data Data Custodian. */
#ifndef CMD_SERVE_H
#define CMD_SERVE_H

int cmd_serve(int argc, char **argv);

/* The base URL serve uses without --base-url: "https://localhost:PORT",
 * PORT from the listen address (demo prints the same). */
void serve_default_base(const char *listen, char *out, size_t size);

#endif
