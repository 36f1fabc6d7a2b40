/* cmd_client.h -- the Data Custodian record commands: client, member.
 *
 * Each is `int cmd_NAME(int argc, char **argv)` (argv[0] is the command
 * name) returning a sysexits-style status, like every command (cli.h). */
#ifndef CMD_CLIENT_H
#define CMD_CLIENT_H

/* espigate client add --name N --redirect-uri U... --scope S... | list | remove ID */
int cmd_client(int argc, char **argv);
/* espigate member add --customer ID --login L [--password-file F] | list | remove L */
int cmd_member(int argc, char **argv);

#endif
