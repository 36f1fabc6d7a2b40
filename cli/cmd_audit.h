/* cmd_audit.h -- `espigate audit`: the conformance auditor (feeds/audit.h).
 *
 * `int cmd_audit(int argc, char **argv)` (argv[0] is the command name)
 * returns a sysexits-style status like every command (cli.h). */
#ifndef CMD_AUDIT_H
#define CMD_AUDIT_H

/* espigate audit --base-url URL [--client-id ID --client-secret S] [--token T]
 *   [--resource-uri URI] [--ca-file F] [--insecure] [--format F] [-o REPORT] ... */
int cmd_audit(int argc, char **argv);

#endif
