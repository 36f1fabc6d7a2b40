/* cmd_synth.h -- `espigate synth`: write a deterministic synthetic feed. */
#ifndef CMD_SYNTH_H
#define CMD_SYNTH_H

/* Run `espigate synth ...`; argv[0] is "synth".  Returns the process exit
 * status (0, 64 for bad options, else eg_exit_status of the error). */
int cmd_synth(int argc, char **argv);

#endif
