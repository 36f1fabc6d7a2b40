/* cmd_serve.h -- `espigate serve`, the Connect-My-Data Data Custodian. */
#ifndef CMD_SERVE_H
#define CMD_SERVE_H

int cmd_serve(int argc, char **argv);

#endif
