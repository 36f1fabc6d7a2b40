/* cmd_notify.h -- `espigate notify`: the ESPI notification queue (feeds/notify.h).
 *
 * `int cmd_notify(int argc, char **argv)` (argv[0] is the command name)
 * returns a sysexits-style status, like every command (cli.h). */
#ifndef CMD_NOTIFY_H
#define CMD_NOTIFY_H

/* espigate notify list|send|retry|add [--db URL] ... */
int cmd_notify(int argc, char **argv);

#endif
