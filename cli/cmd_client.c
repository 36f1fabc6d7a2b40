/* cmd_client.c -- `espigate client|member`: the Data Custodian's records.
 *
 * Thin shells over feeds/custodian.h.  `client add` registers a third-party
 * application and prints its client_id and client_secret -- the secret is
 * shown this once: the store keeps only its SHA-256.  `member add` gives a
 * retail customer a login for the consent page; the password comes from a
 * file, the ESPIGATE_MEMBER_PASSWORD environment variable, or a prompt
 * without echo on a terminal, never from the command line (where other
 * users could read it in the process list).  The store is chosen as for
 * every store command: --db URL, else $ESPIGATE_DB, else sqlite:espigate.db. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_client.h"
#include "custodian.h"
#include "store.h"

static const char client_help[] =
    "Usage: espigate client add --name NAME --redirect-uri URI [--redirect-uri URI2 ...]\n"
    "                           [--notify-uri URI] --scope SCOPE [--scope SCOPE2 ...]\n"
    "       espigate client list\n"
    "       espigate client remove CLIENT_ID\n"
    "\n"
    "Third-party applications (OAuth clients, ESPI ApplicationInformation) allowed to ask\n"
    "customers for their data. 'add' prints the new client_id and client_secret; the secret\n"
    "is shown only then (the store keeps a hash). Redirect URIs are matched exactly and must be\n"
    "https:// (http:// only for localhost). A scope is an ESPI scope string; the first is the\n"
    "default. 'remove' revokes every authorization and token of the application.\n"
    "\n"
    "Options:\n"
    "  -d, --db URL          sqlite:PATH (default sqlite:espigate.db, or $ESPIGATE_DB) or\n"
    "                        postgresql://user@host/dbname\n"
    "  -f, --format F        text (default) or json\n"
    "  -h, --help            this help\n"
    "\n"
    "Example:\n"
    "  espigate client add --name 'Solar Helper' --redirect-uri https://solar.example/cb \\\n"
    "      --scope 'FB=1_3_4_5_13_14_39;IntervalDuration=3600;BlockDuration=daily;HistoryLength=13'\n";

static const char member_help[] =
    "Usage: espigate member add --customer ID --login LOGIN [--password-file FILE]\n"
    "       espigate member list\n"
    "       espigate member remove LOGIN\n"
    "\n"
    "Logins of retail customers for the consent page, where they approve or deny an\n"
    "application. The customer must exist ('espigate customer add ID'). The password is read\n"
    "from --password-file (first line), else $ESPIGATE_MEMBER_PASSWORD, else asked for on the\n"
    "terminal without echo; it is stored hashed with scrypt. Adding a login again replaces it.\n"
    "\n"
    "Options:\n"
    "  -d, --db URL          the store (see 'espigate client --help')\n"
    "  -f, --format F        text (default) or json (list)\n"
    "  -h, --help            this help\n";

enum { OPT_NAME = 256, OPT_REDIRECT, OPT_NOTIFY, OPT_SCOPE, OPT_CUSTOMER, OPT_LOGIN, OPT_PWFILE };

/* The store with the custodian tables in place. */
static int open_store(const char *url, store **s)
{
    eg_err err;
    eg_err_clear(&err);
    int rc = cli_store_open(url, s);
    if (rc) return rc;
    if ((rc = cd_init(*s, &err))) {
        store_close(*s);
        *s = NULL;
        return cli_report(&err);
    }
    return 0;
}

/* ---- client ----------------------------------------------------------------- */

typedef struct list_ctx {
    cli_format fmt;
    long n;
} list_ctx;

static void json_list(const char *key, char (*items)[CD_URI_MAX], int n)
{
    printf(", \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        if (i) printf(", ");
        eg_json_string(stdout, items[i]);
    }
    printf("]");
}

static void json_scopes(char (*items)[CD_SCOPE_MAX], int n)
{
    printf(", \"scopes\": [");
    for (int i = 0; i < n; i++) {
        if (i) printf(", ");
        eg_json_string(stdout, items[i]);
    }
    printf("]");
}

static int print_app(void *p, const cd_app *a)
{
    list_ctx *l = p;
    if (l->fmt == CLI_FMT_JSON) {
        printf("%s\n  {\"client_id\": ", l->n ? "," : "");
        eg_json_string(stdout, a->client_id);
        printf(", \"name\": ");
        eg_json_string(stdout, a->name);
        json_list("redirect_uris", (char (*)[CD_URI_MAX])a->redirect_uri, a->n_redirect_uri);
        printf(", \"notify_uri\": ");
        eg_json_string(stdout, a->notify_uri);
        json_scopes((char (*)[CD_SCOPE_MAX])a->scope, a->n_scope);
        printf(", \"application_information_id\": ");
        eg_json_string(stdout, a->entry_id);
        printf(", \"created\": %lld}", (long long)a->created);
    } else {
        printf("%s\t%s\t%d redirect URI%s\t%s\n", a->client_id, a->name, a->n_redirect_uri,
               a->n_redirect_uri == 1 ? "" : "s", a->scope[0]);
    }
    l->n++;
    return 0;
}

static int client_add(store *s, cd_app *a, cli_format fmt)
{
    char secret[CD_SECRET_MAX];
    eg_err err;
    eg_err_clear(&err);
    int rc = cd_app_add(s, a, (int64_t)time(NULL), secret, &err);
    if (rc) return cli_report(&err);
    if (fmt == CLI_FMT_JSON) {
        printf("{\"client_id\": ");
        eg_json_string(stdout, a->client_id);
        printf(", \"client_secret\": ");
        eg_json_string(stdout, secret);
        printf(", \"name\": ");
        eg_json_string(stdout, a->name);
        printf(", \"application_information_id\": ");
        eg_json_string(stdout, a->entry_id);
        printf("}\n");
    } else {
        printf("client_id: %s\nclient_secret: %s\n", a->client_id, secret);
        printf("store the secret now; it cannot be shown again\n");
    }
    memset(secret, 0, sizeof secret);
    return EG_EXIT_OK;
}

int cmd_client(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},            {"name", required_argument, NULL, OPT_NAME},
        {"redirect-uri", required_argument, NULL, OPT_REDIRECT},
        {"notify-uri", required_argument, NULL, OPT_NOTIFY},
        {"scope", required_argument, NULL, OPT_SCOPE}, {NULL, 0, NULL, 0}};
    const char *url = cli_db_url();
    cli_format fmt = CLI_FMT_TEXT;
    store *s = NULL;
    eg_err err;
    int c, rc, given = 0;
    cd_app *a = calloc(1, sizeof *a);
    if (!a) return EG_EXIT_OSERR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': url = optarg; break;
        case 'f': {
            int f = cli_parse_format(optarg, 1u << CLI_FMT_TEXT | 1u << CLI_FMT_JSON);
            if (f < 0) {
                rc = cli_usage_error("client", "--format '%s' is not text or json", optarg);
                goto done;
            }
            fmt = (cli_format)f;
            break;
        }
        case 'h': fputs(client_help, stdout); rc = EG_EXIT_OK; goto done;
        case OPT_NAME: snprintf(a->name, sizeof a->name, "%s", optarg); given = 1; break;
        case OPT_REDIRECT:
            if (a->n_redirect_uri == CD_MAX_LIST || strlen(optarg) >= CD_URI_MAX) {
                rc = cli_usage_error("client", "at most %d redirect URIs of < %d bytes",
                                     CD_MAX_LIST, CD_URI_MAX);
                goto done;
            }
            snprintf(a->redirect_uri[a->n_redirect_uri++], CD_URI_MAX, "%s", optarg);
            given = 1;
            break;
        case OPT_NOTIFY: snprintf(a->notify_uri, sizeof a->notify_uri, "%s", optarg); given = 1; break;
        case OPT_SCOPE:
            if (a->n_scope == CD_MAX_LIST || strlen(optarg) >= CD_SCOPE_MAX) {
                rc = cli_usage_error("client", "at most %d scopes of < %d bytes", CD_MAX_LIST,
                                     CD_SCOPE_MAX);
                goto done;
            }
            snprintf(a->scope[a->n_scope++], CD_SCOPE_MAX, "%s", optarg);
            given = 1;
            break;
        default: rc = cli_usage_error("client", "unknown option"); goto done;
        }
    }
    eg_err_clear(&err);
    if (optind >= argc) {
        rc = cli_usage_error("client", "say 'add', 'list' or 'remove CLIENT_ID'");
        goto done;
    }
    const char *verb = argv[optind];
    int nargs = argc - optind - 1;
    if (strcmp(verb, "add") == 0) {
        if (nargs) {
            rc = cli_usage_error("client", "'add' takes options only (--name, --redirect-uri, --scope)");
            goto done;
        }
        if (!a->name[0] || !a->n_redirect_uri || !a->n_scope) {
            rc = cli_usage_error("client", "'add' needs --name, at least one --redirect-uri and "
                                           "at least one --scope");
            goto done;
        }
        if ((rc = open_store(url, &s))) goto done;
        rc = client_add(s, a, fmt);
        goto done;
    }
    if (given) {
        rc = cli_usage_error("client", "--name, --redirect-uri, --notify-uri and --scope go with 'add'");
        goto done;
    }
    if (strcmp(verb, "list") == 0) {
        list_ctx l = {fmt, 0};
        if (nargs) {
            rc = cli_usage_error("client", "'list' takes no arguments");
            goto done;
        }
        if ((rc = open_store(url, &s))) goto done;
        if (fmt == CLI_FMT_JSON) printf("[");
        rc = cd_app_list(s, print_app, &l, &err);
        if (fmt == CLI_FMT_JSON) printf("%s]\n", l.n ? "\n" : "");
        rc = rc ? cli_report(&err) : EG_EXIT_OK;
    } else if (strcmp(verb, "remove") == 0) {
        if (nargs != 1) {
            rc = cli_usage_error("client", "'remove' takes one CLIENT_ID");
            goto done;
        }
        if ((rc = open_store(url, &s))) goto done;
        rc = cd_app_remove(s, argv[optind + 1], (int64_t)time(NULL), &err);
        if (!rc) printf("client %s removed; its authorizations and tokens are revoked\n",
                        argv[optind + 1]);
        rc = rc ? cli_report(&err) : EG_EXIT_OK;
    } else {
        rc = cli_usage_error("client", "'%s' is not add, list or remove", verb);
    }
done:
    store_close(s);
    free(a);
    return rc;
}

/* ---- member ------------------------------------------------------------------ */

static int print_member(void *p, const char *login, const char *customer, int64_t created)
{
    list_ctx *l = p;
    if (l->fmt == CLI_FMT_JSON) {
        printf("%s\n  {\"login\": ", l->n ? "," : "");
        eg_json_string(stdout, login);
        printf(", \"customer\": ");
        eg_json_string(stdout, customer);
        printf(", \"created\": %lld}", (long long)created);
    } else {
        printf("%s\t%s\n", login, customer);
    }
    l->n++;
    return 0;
}

/* The password: file, environment, or a no-echo prompt.  0 or an exit status. */
static int read_password(const char *file, char *out, size_t size)
{
    const char *env = getenv("ESPIGATE_MEMBER_PASSWORD");
    out[0] = '\0';
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "espigate: %s: cannot read the password file\n", file);
            return EG_EXIT_NOINPUT;
        }
        if (!fgets(out, (int)size, f)) out[0] = '\0';
        fclose(f);
    } else if (env && *env) {
        snprintf(out, size, "%s", env);
    } else if (isatty(STDIN_FILENO)) {
        struct termios old, quiet;
        fprintf(stderr, "Password: ");
        fflush(stderr);
        int have = tcgetattr(STDIN_FILENO, &old) == 0;
        if (have) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        if (!fgets(out, (int)size, stdin)) out[0] = '\0';
        if (have) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    } else {
        return cli_usage_error("member", "give the password with --password-file FILE or "
                                         "$ESPIGATE_MEMBER_PASSWORD (stdin is not a terminal)");
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (!out[0]) return cli_usage_error("member", "the password is empty");
    return 0;
}

int cmd_member(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {"customer", required_argument, NULL, OPT_CUSTOMER},
        {"login", required_argument, NULL, OPT_LOGIN},
        {"password-file", required_argument, NULL, OPT_PWFILE},
        {NULL, 0, NULL, 0}};
    const char *url = cli_db_url(), *customer = NULL, *login = NULL, *pwfile = NULL;
    cli_format fmt = CLI_FMT_TEXT;
    store *s = NULL;
    eg_err err;
    char pw[1100];
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': url = optarg; break;
        case 'f': {
            int f = cli_parse_format(optarg, 1u << CLI_FMT_TEXT | 1u << CLI_FMT_JSON);
            if (f < 0) return cli_usage_error("member", "--format '%s' is not text or json", optarg);
            fmt = (cli_format)f;
            break;
        }
        case 'h': fputs(member_help, stdout); return EG_EXIT_OK;
        case OPT_CUSTOMER: customer = optarg; break;
        case OPT_LOGIN: login = optarg; break;
        case OPT_PWFILE: pwfile = optarg; break;
        default: return cli_usage_error("member", "unknown option");
        }
    }
    eg_err_clear(&err);
    if (optind >= argc) return cli_usage_error("member", "say 'add', 'list' or 'remove LOGIN'");
    const char *verb = argv[optind];
    int nargs = argc - optind - 1;
    if (strcmp(verb, "add") == 0) {
        if (nargs || !customer || !login)
            return cli_usage_error("member", "'add' needs --customer ID and --login LOGIN");
        if ((rc = read_password(pwfile, pw, sizeof pw))) return rc;
        if ((rc = open_store(url, &s))) return rc;
        rc = cd_member_set(s, login, customer, pw, (int64_t)time(NULL), &err);
        memset(pw, 0, sizeof pw);
        if (!rc) printf("member %s added for customer %s\n", login, customer);
    } else if (customer || login || pwfile) {
        return cli_usage_error("member", "--customer, --login and --password-file go with 'add'");
    } else if (strcmp(verb, "list") == 0) {
        list_ctx l = {fmt, 0};
        if (nargs) return cli_usage_error("member", "'list' takes no arguments");
        if ((rc = open_store(url, &s))) return rc;
        if (fmt == CLI_FMT_JSON) printf("[");
        rc = cd_member_list(s, print_member, &l, &err);
        if (fmt == CLI_FMT_JSON) printf("%s]\n", l.n ? "\n" : "");
    } else if (strcmp(verb, "remove") == 0) {
        if (nargs != 1) return cli_usage_error("member", "'remove' takes one LOGIN");
        if ((rc = open_store(url, &s))) return rc;
        rc = cd_member_remove(s, argv[optind + 1], &err);
        if (!rc) printf("member %s removed\n", argv[optind + 1]);
    } else {
        return cli_usage_error("member", "'%s' is not add, list or remove", verb);
    }
    store_close(s);
    return rc ? cli_report(&err) : EG_EXIT_OK;
}
