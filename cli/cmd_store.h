/* cmd_store.h -- the feed-store commands: import, export, customer, db.
 *
 * Each is `int cmd_NAME(int argc, char **argv)` (argv[0] is the command
 * name) returning a sysexits-style status, like every command (cli.h). */
#ifndef CMD_STORE_H
#define CMD_STORE_H

/* espigate import [--db URL] [--customer ID] FEED... */
int cmd_import(int argc, char **argv);
/* espigate export [--db URL] [--customer ID|--usage-point ID] [--from T --to T] [-o OUT] */
int cmd_export(int argc, char **argv);
/* espigate customer add ID [NAME] | list */
int cmd_customer(int argc, char **argv);
/* espigate db check [--format json] */
int cmd_db(int argc, char **argv);

#endif
