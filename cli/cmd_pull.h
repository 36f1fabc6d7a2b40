/* cmd_pull.h -- `espigate pull SOURCE`: fetch your own data from a co-op portal
 * and translate it into one Green Button feed (see cmd_pull.c). */
#ifndef CMD_PULL_H
#define CMD_PULL_H

int cmd_pull(int argc, char **argv);

#endif
