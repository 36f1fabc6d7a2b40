/* main.c -- `espigate <command> [options]`: find the command and run it.
 *
 * Commands live one per file (cmd_*.c).  This file only knows their names
 * and one-line summaries, so `espigate --help` lists them all. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "espi.h"
#include "cmd_client.h"
#include "cmd_notify.h"
#include "cmd_audit.h"
#include "cmd_pull.h"
#include "cmd_render.h"
#include "cmd_serve.h"
#include "cmd_store.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"demo", cmd_demo, "the main job on the shipped samples: translate, validate, store, serve"},
    {"validate", cmd_validate, "check Green Button feeds: schema + semantic rules"},
    {"import", cmd_import, "load Green Button feeds into a store (SQLite or PostgreSQL)"},
    {"export", cmd_export, "write stored data back as a Green Button feed"},
    {"customer", cmd_customer, "add or list retail customers in a store"},
    {"db", cmd_db, "check a store's integrity"},
    {"client", cmd_client, "register, list or remove third-party applications (OAuth clients)"},
    {"member", cmd_member, "add, list or remove retail customers' logins for the consent page"},
    {"notify", cmd_notify, "list, send and retry ESPI notifications to third parties"},
    {"audit", cmd_audit, "check a Data Custodian's conformance (TLS, OAuth, ESPI resources)"},
    {"pull", cmd_pull, "fetch your data from a co-op portal (SmartHub) and translate it"},
    {"render", cmd_render, "show a feed as a self-contained HTML page, or its readings as CSV"},
    {"serve", cmd_serve, "run the Connect-My-Data Data Custodian over HTTPS (OAuth, ESPI REST)"},
    {"synth", cmd_synth, "write a synthetic Green Button feed (tests, benchmarks)"},
    {"translate", cmd_translate, "turn co-op data (SMT, SmartHub, Opower, bills) into Green Button feeds"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: espigate <command> [options] [args]\n"
            "       espigate <command> --help\n"
            "       espigate --version\n\n"
            "espigate turns co-op utility data into Green Button (NAESB REQ.21 ESPI) feeds,\n"
            "validates feeds, and serves them.\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nExit status: 0 ok, 64 usage error, 65 invalid input data, 66 input missing,\n"
               "70 internal error, 71 out of memory, 73 cannot create output, 74 I/O error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EG_EXIT_USAGE;
    }
    const char *name = argv[1];
    espi_global_init(); /* before any command starts a thread (translate -j, the reader, serve) */
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            char help[] = "--help";
            char *hargv[] = {argv[2], help, NULL};
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) return commands[i].run(2, hargv);
        }
        usage(stdout);
        return EG_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("espigate %s\n", ESPIGATE_VERSION);
        return EG_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "espigate: '%s' is not a command.\n", name);
    usage(stderr);
    return EG_EXIT_USAGE;
}
