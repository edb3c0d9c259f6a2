/* invsyncd.c - the service's main: configuration, signals, service_run.
 *
 * SIGTERM and SIGINT ask for a graceful stop (final flush and commit of every
 * owned partition); a second one while stopping is ignored, so a stop is
 * never cut short by an impatient double Ctrl-C: use SIGKILL for that.
 * Exit codes: 0 clean stop, 1 runtime error, 2 bad configuration. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc_name.h"
#include "config.h"
#include "log.h"
#include "service.h"

static volatile int stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv) {
    inv_config cfg;
    char err[1024] = "";
    int rc = config_parse(&cfg, argc, argv, err, sizeof(err));
    if (rc == 1) {
        config_free(&cfg);
        return 0; /* --help or --version */
    }
    if (rc != 0) {
        fprintf(stderr, "invsyncd: %s\n", err);
        fprintf(stderr, "invsyncd: see invsyncd --help\n");
        config_free(&cfg);
        return 2;
    }
    log_set_level(cfg.log_level);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char alloc[64];
    log_info("invsyncd %s starting (pid %d, %s)", INV_VERSION, (int)getpid(),
             alloc_name(alloc, sizeof(alloc)));
    if (log_enabled(INV_LOG_DEBUG)) config_dump(&cfg, stderr);
    rc = service_run(&cfg, &stop_requested);
    config_free(&cfg);
    return rc;
}
