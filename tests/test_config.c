/* test_config.c - flags, config file and librdkafka properties (io/config.c).
 *
 * Every setting is set through a flag ("--name value" and "--name=value")
 * and through the file; every integer setting is tried on both sides of both
 * of its bounds and with malformed text; every error message is checked to
 * name the setting (and FILE:LINE for files). Precedence (defaults < file <
 * flags; properties file < -X, in order) is checked with --config placed
 * anywhere in argv. Secrets: a sasl.password of "hunter2" and invalid-valued
 * secrets never reach config_dump output or an error string. A dump parses
 * back to the same settings. Allocation failure is injected at every
 * allocation of a full parse. Files live in a scratch directory under
 * $TMPDIR removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "inv_limits.h"

#define ARGS_MAX 32

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL) {                                                     \
            fail_msg("'%s' does not contain '%s'", (hay), (needle));                               \
        }                                                                                          \
    } while (0)

#define assert_not_contains(hay, needle)                                                           \
    do {                                                                                           \
        if (strstr((hay), (needle)) != NULL) {                                                     \
            fail_msg("'%s' contains '%s'", (hay), (needle));                                       \
        }                                                                                          \
    } while (0)

static char scratch_dir[256];
static char errstr[2048];

/* --- helpers ------------------------------------------------------------------ */

/* config_parse over "invsyncd" and the NULL-terminated arguments. */
static int parse_v(inv_config *c, const char *first, va_list ap) {
    char *argv[ARGS_MAX + 2];
    int argc = 0;
    argv[argc++] = (char *)"invsyncd";
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(argc <= ARGS_MAX);
        argv[argc++] = (char *)a;
    }
    argv[argc] = NULL;
    memset(errstr, 0, sizeof(errstr));
    return config_parse(c, argc, argv, errstr, sizeof(errstr));
}

static int parse(inv_config *c, const char *first, ...) {
    va_list ap;
    va_start(ap, first);
    int rc = parse_v(c, first, ap);
    va_end(ap);
    return rc;
}

/* Expects config_parse to fail with -EINVAL and a message containing want. */
static void parse_fails(const char *want, const char *first, ...) {
    inv_config c;
    va_list ap;
    va_start(ap, first);
    int rc = parse_v(&c, first, ap);
    va_end(ap);
    if (rc != -EINVAL) fail_msg("expected -EINVAL, got %d (%s), wanted '%s'", rc, errstr, want);
    assert_contains(errstr, want);
    assert_int_equal(c.kafka_props_count, 0);
    config_free(&c);
}

static int text(inv_config *c, const char *s) {
    memset(errstr, 0, sizeof(errstr));
    return config_parse_text(c, s, strlen(s), "invsync.conf", errstr, sizeof(errstr));
}

/* Expects the config text to fail with a message containing want. */
static void text_fails(const char *s, const char *want) {
    inv_config c;
    config_defaults(&c);
    int rc = text(&c, s);
    if (rc != -EINVAL) fail_msg("expected -EINVAL for '%s', got %d", s, rc);
    assert_contains(errstr, want);
}

static int props(inv_config *c, const char *s) {
    memset(errstr, 0, sizeof(errstr));
    return config_parse_kafka_properties(c, s, strlen(s), "client.properties", errstr,
                                         sizeof(errstr));
}

static void props_fails(const char *s, const char *want) {
    inv_config c;
    config_defaults(&c);
    int rc = props(&c, s);
    if (rc != -EINVAL) fail_msg("expected -EINVAL for '%s', got %d", s, rc);
    assert_contains(errstr, want);
    config_free(&c); /* lines before the error stay appended */
}

/* Writes s to scratch_dir/name; returns the path (static buffer per call site use). */
static const char *write_file(const char *name, const char *s, char *path, size_t path_len) {
    snprintf(path, path_len, "%s/%s", scratch_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, strlen(s), f), strlen(s));
    assert_int_equal(fclose(f), 0);
    return path;
}

/* config_dump into a malloc'd string. */
static char *dump(const inv_config *c) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    config_dump(c, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Settings (everything before kafka_props) of a and b are byte-equal:
 * setters clear whole fields, so this holds for equal settings. */
static void assert_settings_equal(const inv_config *a, const inv_config *b) {
    assert_memory_equal(a, b, offsetof(inv_config, kafka_props));
}

static void assert_prop(const inv_config *c, uint32_t i, const char *name, const char *value) {
    assert_true(i < c->kafka_props_count);
    assert_string_equal(c->kafka_props[i].name, name);
    assert_string_equal(c->kafka_props[i].value, value);
}

/* --- defaults and every setting -------------------------------------------------- */

static void test_defaults(void **state) {
    (void)state;
    inv_config c;
    config_defaults(&c);
    assert_string_equal(c.brokers, "");
    assert_string_equal(c.group, "inventory-sync");
    assert_int_equal(c.workers, 1);
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        assert_int_equal(c.cpus[i], -1);
    assert_int_equal(c.cpus_count, 0);
    assert_string_equal(c.data_dir, "./data");
    assert_string_equal(c.http_host, "127.0.0.1");
    assert_int_equal(c.http_port, 8080);
    assert_true(c.http_enabled);
    assert_string_equal(c.kafka_config_path, "");
    assert_string_equal(c.topic_canonical, "inventory.events.canonical");
    assert_string_equal(c.topic_stock_levels, "inventory.stock-levels");
    assert_string_equal(c.topic_dlq, "inventory.events.dlq");
    assert_int_equal(c.partitions, 12);
    assert_int_equal(c.replication_factor, -1);
    assert_int_equal(c.flush_interval_ms, 50);
    assert_int_equal(c.dedup_window_ms, INV_DEDUP_WINDOW_MS_DEFAULT);
    assert_int_equal(c.dedup_ids_max, INV_DEDUP_IDS_MAX_DEFAULT);
    assert_int_equal(c.embedded_brokers, 1);
    assert_int_equal(c.log_level, 2);
    assert_int_equal(c.kafka_props_count, 0);
    assert_int_equal(config_validate(&c, errstr, sizeof(errstr)), 0);

    /* No arguments at all: the defaults. */
    inv_config p;
    assert_int_equal(parse(&p, NULL), 0);
    assert_settings_equal(&c, &p);
    assert_int_equal(config_parse(&p, 0, NULL, errstr, sizeof(errstr)), 0);
    assert_settings_equal(&c, &p);
}

static void check_all_set(const inv_config *c) {
    assert_string_equal(c->brokers, "k1:9092,[::1]:9093,SSL://k3.example.com:9094");
    assert_string_equal(c->group, "g 1");
    assert_int_equal(c->workers, 4);
    assert_int_equal(c->cpus_count, 4);
    assert_int_equal(c->cpus[0], 0);
    assert_int_equal(c->cpus[1], 1);
    assert_int_equal(c->cpus[2], 4);
    assert_int_equal(c->cpus[3], 7);
    assert_int_equal(c->cpus[4], -1);
    assert_string_equal(c->data_dir, "/var/lib/invsync");
    assert_string_equal(c->http_host, "::1");
    assert_int_equal(c->http_port, 9000);
    assert_true(c->http_enabled);
    assert_string_equal(c->topic_canonical, "a.canon");
    assert_string_equal(c->topic_stock_levels, "a-stock");
    assert_string_equal(c->topic_dlq, "A_DLQ");
    assert_int_equal(c->partitions, 24);
    assert_int_equal(c->replication_factor, 3);
    assert_int_equal(c->flush_interval_ms, 200);
    assert_int_equal(c->dedup_window_ms, 3600000);
    assert_int_equal(c->dedup_ids_max, 4096);
    assert_int_equal(c->embedded_brokers, 3);
    assert_int_equal(c->log_level, 3);
}

static void test_every_flag(void **state) {
    (void)state;
    inv_config c;
    /* "--name value" */
    assert_int_equal(parse(&c, "--brokers", "k1:9092,[::1]:9093,SSL://k3.example.com:9094",
                           "--group", "g 1", "--workers", "4", "--cpus", "0-1,4,7", "--data-dir",
                           "/var/lib/invsync", "--http", "[::1]:9000", "--topic-canonical",
                           "a.canon", "--topic-stock-levels", "a-stock", "--topic-dlq", "A_DLQ",
                           "--partitions", "24", "--replication-factor", "3", "--flush-interval-ms",
                           "200", "--dedup-window-ms", "3600000", "--dedup-ids-max", "4096",
                           "--embedded-brokers", "3", "--log-level", "debug", NULL),
                     0);
    check_all_set(&c);
    config_free(&c);
    /* "--name=value" */
    assert_int_equal(
        parse(&c, "--brokers=k1:9092,[::1]:9093,SSL://k3.example.com:9094", "--group=g 1",
              "--workers=4", "--cpus=0-1,4,7", "--data-dir=/var/lib/invsync", "--http=[::1]:9000",
              "--topic-canonical=a.canon", "--topic-stock-levels=a-stock", "--topic-dlq=A_DLQ",
              "--partitions=24", "--replication-factor=3", "--flush-interval-ms=200",
              "--dedup-window-ms=3600000", "--dedup-ids-max=4096", "--embedded-brokers=3",
              "--log-level=DEBUG", NULL),
        0);
    check_all_set(&c);
    config_free(&c);
    /* A value may contain '=' and begin with '-'. */
    assert_int_equal(
        parse(&c, "--group=a=b", "--replication-factor", "-1", "--data-dir", "-d", NULL), 0);
    assert_string_equal(c.group, "a=b");
    assert_string_equal(c.data_dir, "-d");
    assert_int_equal(c.replication_factor, -1);
}

static const char all_settings_file[] = "# invsync settings\n"
                                        "\n"
                                        "brokers = k1:9092, [::1]:9093 ,SSL://k3.example.com:9094\n"
                                        "group = \"g 1\"\n"
                                        "   workers=4   \n"
                                        "cpus = 0-1,4,7 # pinned\n"
                                        "data-dir = /var/lib/invsync\n"
                                        "http = [::1]:9000\n"
                                        "kafka-config = \"\"\n"
                                        "topic-canonical = a.canon\n"
                                        "topic-stock-levels = a-stock\n"
                                        "topic-dlq = A_DLQ\n"
                                        "\t# indented comment\n"
                                        "partitions = 24\n"
                                        "replication-factor = 3\n"
                                        "flush-interval-ms = 200\n"
                                        "dedup-window-ms = 3600000\n"
                                        "dedup-ids-max = 4096\n"
                                        "embedded-brokers = 3\n"
                                        "log-level = debug";

static void test_every_file_setting(void **state) {
    (void)state;
    inv_config c;
    config_defaults(&c);
    assert_int_equal(text(&c, all_settings_file), 0);
    check_all_set(&c);
    assert_int_equal(config_validate(&c, errstr, sizeof(errstr)), 0);

    /* CRLF line endings and a kafka-config path. */
    config_defaults(&c);
    assert_int_equal(text(&c, "workers = 2\r\nkafka-config = /etc/k.properties\r\n"), 0);
    assert_int_equal(c.workers, 2);
    assert_string_equal(c.kafka_config_path, "/etc/k.properties");

    /* Empty text, only comments. */
    inv_config d;
    config_defaults(&c);
    config_defaults(&d);
    assert_int_equal(config_parse_text(&c, NULL, 0, "x", errstr, sizeof(errstr)), 0);
    assert_int_equal(text(&c, "# nothing\n\n   \n#x = y\n"), 0);
    assert_settings_equal(&c, &d);
}

static void test_file_syntax(void **state) {
    (void)state;
    inv_config c;
    config_defaults(&c);
    /* Quotes keep '#' and spaces; \" and \\ are the escapes. */
    assert_int_equal(text(&c, "group = \" a # b \\\"q\\\" \\\\ \"  # comment\n"), 0);
    assert_string_equal(c.group, " a # b \"q\" \\ ");
    /* Unquoted: '#' after a space starts a comment; inside a word it does not. */
    assert_int_equal(text(&c, "group = a#b #c\n"), 0);
    assert_string_equal(c.group, "a#b");
    assert_int_equal(text(&c, "data-dir = C:\\dir\\x\n"), 0);
    assert_string_equal(c.data_dir, "C:\\dir\\x");
    assert_int_equal(text(&c, "group = a\"b\n"), 0);
    assert_string_equal(c.group, "a\"b");

    text_fails("group = \"abc\n", "invsync.conf:1: group: unterminated quote");
    text_fails("group = \"a\" b\n", "invsync.conf:1: group: text after the closing quote");
    text_fails("group = \"a\\qb\"\n", "invsync.conf:1: group: unknown escape");
    text_fails("\n\nworkers 4\n", "invsync.conf:3: expected 'name = value'");
    text_fails("= 4\n", "invsync.conf:1: expected 'name = value'");
    text_fails("workers\n", "invsync.conf:1: expected 'name = value'");
    text_fails("workers = 2\n# x\nworkers = 3\n", "invsync.conf:3: workers: already set on line 1");
    text_fails("group = #only a comment\n", "invsync.conf:1: group: missing value");
    static const char nul[] = "workers = 2\nwork\0ers = 3\n";
    config_defaults(&c);
    assert_int_equal(config_parse_text(&c, nul, sizeof(nul) - 1, "n.conf", errstr, sizeof(errstr)),
                     -EINVAL);
    assert_contains(errstr, "n.conf:2: NUL byte");
    /* A value longer than any setting takes. */
    char big[PATH_MAX + 64];
    int k = snprintf(big, sizeof(big), "data-dir = ");
    memset(big + k, 'd', sizeof(big) - (size_t)k - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\0';
    text_fails(big, "invsync.conf:1: data-dir: value too long");
}

static void test_unknown_settings(void **state) {
    (void)state;
    text_fails("workers = 2\n\n\n\n\n\nflush-intervall-ms = 5\n",
               "invsync.conf:7: unknown setting 'flush-intervall-ms' (did you mean "
               "'flush-interval-ms'?)");
    text_fails("sasl.password = hunter2\n", "invsync.conf:1: unknown setting 'sasl.password' "
                                            "(librdkafka properties go in the kafka-config file)");
    text_fails("config = x.conf\n", "invsync.conf:1: unknown setting 'config'");
    text_fails("Workers = 1\n", "did you mean 'workers'?");
    text_fails("flush_interval_ms = 1\n", "unknown setting 'flush_interval_ms'");
    parse_fails("unknown option '--wrokers' (did you mean '--workers'?)", "--wrokers", "2", NULL);
    parse_fails("unknown option '--nope'", "--nope", NULL);
    parse_fails("unknown option '-workers' (did you mean '--workers'?)", "-workers", "2", NULL);
    parse_fails("unknown option '-q'", "-q", NULL);
    /* An unknown option is named up to '=', never with its value. */
    parse_fails("unknown option '--sasl.password'", "--sasl.password=hunter2", NULL);
    assert_not_contains(errstr, "hunter2");
    /* Positional arguments are never echoed (one may be a secret meant for -X). */
    parse_fails("unexpected argument 3", "--workers", "2", "hunter2", NULL);
    assert_not_contains(errstr, "hunter2");
    parse_fails("unexpected argument 1", "--", NULL);
    parse_fails("--workers: missing value", "--workers", NULL);
    parse_fails("--workers: missing value", "--workers", "--group", "x", NULL);
    parse_fails("--help takes no value", "--help=1", NULL);
    parse_fails("--config: given twice", "--config", "a", "--config", "b", NULL);
    parse_fails("--config: missing value", "--config=", NULL);
}

/* --- integers ------------------------------------------------------------------ */

typedef struct int_setting {
    const char *name;
    long long min, max;
    size_t offset;
    int size; /* bytes; negative: signed */
} int_setting;

static const int_setting int_settings[] = {
    {"workers", 1, INV_WORKERS_MAX, offsetof(inv_config, workers), 4},
    {"partitions", 1, INV_PARTITIONS_MAX, offsetof(inv_config, partitions), -4},
    {"flush-interval-ms", 1, 60000, offsetof(inv_config, flush_interval_ms), 4},
    {"dedup-window-ms", 1000, 2592000000LL, offsetof(inv_config, dedup_window_ms), -8},
    {"dedup-ids-max", INV_DEDUP_IDS_MIN, INV_DEDUP_IDS_MAX, offsetof(inv_config, dedup_ids_max), 4},
    {"embedded-brokers", 1, 9, offsetof(inv_config, embedded_brokers), 4},
};

static long long int_get(const inv_config *c, const int_setting *s) {
    const char *p = (const char *)c + s->offset;
    if (s->size == 4) return *(const uint32_t *)(const void *)p;
    if (s->size == -4) return *(const int32_t *)(const void *)p;
    return *(const int64_t *)(const void *)p;
}

/* Sets s to v by flag and by file; expects success (ok) or the message. */
static void int_try(const int_setting *s, const char *v, bool ok, const char *want) {
    char flag[64], line[128], msg[256];
    snprintf(flag, sizeof(flag), "--%s=%s", s->name, v);
    snprintf(line, sizeof(line), "%s = %s\n", s->name, v);
    inv_config c;
    config_defaults(&c);
    int rf = text(&c, line);
    if (ok) {
        assert_int_equal(rf, 0);
        assert_int_equal(int_get(&c, s), strtoll(v, NULL, 10));
        /* workers needs nothing else; the rest validate with defaults */
        assert_int_equal(parse(&c, flag, NULL), 0);
        assert_int_equal(int_get(&c, s), strtoll(v, NULL, 10));
        return;
    }
    assert_int_equal(rf, -EINVAL);
    snprintf(msg, sizeof(msg), "invsync.conf:1: %s: %s", s->name, want);
    assert_contains(errstr, msg);
    snprintf(msg, sizeof(msg), "--%s: %s", s->name, want);
    parse_fails(msg, flag, NULL);
    assert_string_equal(errstr, msg);
}

static void test_integer_settings(void **state) {
    (void)state;
    char v[64], want[160];
    for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++) {
        const int_setting *s = &int_settings[i];
        snprintf(v, sizeof(v), "%lld", s->min);
        int_try(s, v, true, NULL);
        snprintf(v, sizeof(v), "%lld", s->max);
        int_try(s, v, true, NULL);
        snprintf(v, sizeof(v), "%lld", s->min - 1);
        snprintf(want, sizeof(want), "%s is out of range %lld..%lld", v, s->min, s->max);
        int_try(s, v, false, want);
        snprintf(v, sizeof(v), "%lld", s->max + 1);
        snprintf(want, sizeof(want), "%s is out of range %lld..%lld", v, s->min, s->max);
        int_try(s, v, false, want);
        static const char *const huge[] = {"99999999999999999999999", "-99999999999999999999",
                                           "9223372036854775808",     "-9223372036854775809",
                                           "18446744073709551616",    "4294967297"};
        for (size_t k = 0; k < sizeof(huge) / sizeof(huge[0]); k++) {
            snprintf(want, sizeof(want), "%s is out of range %lld..%lld", huge[k], s->min, s->max);
            int_try(s, huge[k], false, want);
        }
        static const char *const bad[] = {"+4",  "4a",  "0x10", "1e3", "-",
                                          "--4", "4.0", "four", "4 4", "1_000"};
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            snprintf(want, sizeof(want), "'%s' is not an integer (expected %lld..%lld)", bad[k],
                     s->min, s->max);
            int_try(s, bad[k], false, want);
        }
    }
    parse_fails("--workers: 0 is out of range 1..64", "--workers", "0", NULL);
    assert_string_equal(errstr, "--workers: 0 is out of range 1..64");
    parse_fails("--workers: missing value (expected 1..64)", "--workers=", NULL);
    parse_fails("--workers: ' 4' is not an integer", "--workers", " 4", NULL);
    parse_fails("--workers: '4 ' is not an integer", "--workers", "4 ", NULL);
    text_fails("workers =\n", "invsync.conf:1: workers: missing value (expected 1..64)");
    /* Leading zeros are decimal, not octal. */
    inv_config c;
    assert_int_equal(parse(&c, "--partitions", "010", NULL), 0);
    assert_int_equal(c.partitions, 10);
    assert_int_equal(parse(&c, "--dedup-window-ms", "2592000000", NULL), 0);
    assert_int_equal(c.dedup_window_ms, 2592000000LL);
}

static void test_replication_factor(void **state) {
    (void)state;
    inv_config c;
    assert_int_equal(parse(&c, "--replication-factor", "-1", NULL), 0);
    assert_int_equal(c.replication_factor, -1);
    assert_int_equal(parse(&c, "--replication-factor", "1", NULL), 0);
    assert_int_equal(c.replication_factor, 1);
    assert_int_equal(parse(&c, "--brokers", "k:9092", "--replication-factor", "32767", NULL), 0);
    assert_int_equal(c.replication_factor, 32767);
    parse_fails("--replication-factor: 0 is out of range (-1 = min(3, brokers), or 1..32767)",
                "--replication-factor", "0", NULL);
    parse_fails("--replication-factor: -2 is out of range", "--replication-factor", "-2", NULL);
    parse_fails("--replication-factor: 32768 is out of range", "--replication-factor", "32768",
                NULL);
    parse_fails("--replication-factor: 'x' is not an integer", "--replication-factor", "x", NULL);
    parse_fails("--replication-factor: '' is not an integer", "--replication-factor=", NULL);
    text_fails("replication-factor = 0\n", "invsync.conf:1: replication-factor: 0 is out of range");
    /* With the embedded cluster it may not exceed its broker count. */
    parse_fails("--replication-factor: 3 is more than the 1 brokers of the embedded cluster",
                "--replication-factor", "3", NULL);
    assert_int_equal(parse(&c, "--replication-factor", "3", "--embedded-brokers", "3", NULL), 0);
    assert_int_equal(parse(&c, "--replication-factor", "3", "--brokers", "k:1", NULL), 0);
}

/* --- --cpus ---------------------------------------------------------------------- */

static void cpus_ok(const char *v, const int *want, uint32_t n) {
    int cpus[INV_WORKERS_MAX];
    uint32_t count = 99;
    assert_int_equal(config_parse_cpus(v, cpus, &count, errstr, sizeof(errstr)), 0);
    assert_int_equal(count, n);
    for (uint32_t i = 0; i < INV_WORKERS_MAX; i++) {
        assert_int_equal(cpus[i], i < n ? want[i] : -1);
    }
}

static void cpus_fails(const char *v, const char *want) {
    int cpus[INV_WORKERS_MAX];
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        cpus[i] = 7;
    uint32_t count = 99;
    assert_int_equal(config_parse_cpus(v, cpus, &count, errstr, sizeof(errstr)), -EINVAL);
    assert_contains(errstr, want);
    assert_true(strncmp(errstr, "--cpus: ", 8) == 0);
    assert_int_equal(count, 99); /* unchanged on failure */
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        assert_int_equal(cpus[i], 7);
}

static void test_cpus(void **state) {
    (void)state;
    cpus_ok("0,2", (const int[]){0, 2}, 2);
    cpus_ok("0-3", (const int[]){0, 1, 2, 3}, 4);
    cpus_ok("0-1,4", (const int[]){0, 1, 4}, 3);
    cpus_ok("7,3,5-6", (const int[]){7, 3, 5, 6}, 4); /* worker order, not sorted */
    cpus_ok("5-5", (const int[]){5}, 1);
    cpus_ok("1023", (const int[]){1023}, 1);
    cpus_ok("", NULL, 0);
    cpus_ok("none", NULL, 0);
    int all[INV_WORKERS_MAX];
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        all[i] = 100 + i;
    cpus_ok("100-163", all, INV_WORKERS_MAX);

    cpus_fails("0,0", "CPU 0 is given twice");
    cpus_fails("0-3,2", "CPU 2 is given twice");
    cpus_fails("3-1", "range '3-1' is backwards");
    cpus_fails("0-64", "more than 64 CPUs");
    cpus_fails("0-1000000", "'0-1000000' is not a CPU number");
    cpus_fails("0-1023", "more than 64 CPUs");
    cpus_fails("1024", "'1024' is not a CPU number or range N-M (CPUs 0..1023)");
    cpus_fails("-1", "'-1' is not a CPU number");
    cpus_fails("1-", "'1-' is not a CPU number");
    cpus_fails("1-2-3", "'1-2-3' is not a CPU number");
    cpus_fails("a", "'a' is not a CPU number");
    cpus_fails(" 1", "' 1' is not a CPU number");
    cpus_fails("+1", "'+1' is not a CPU number");
    cpus_fails(",", "empty item");
    cpus_fails("0,,1", "empty item");
    cpus_fails("0,", "empty item");
    cpus_fails("NONE", "'NONE' is not a CPU number");

    /* With --workers: one CPU per worker, checked after every flag. */
    inv_config c;
    assert_int_equal(parse(&c, "--cpus", "0-3", "--workers", "4", NULL), 0);
    assert_int_equal(c.cpus_count, 4);
    assert_int_equal(c.cpus[3], 3);
    parse_fails("--cpus: 2 CPUs given for 4 workers", "--workers", "4", "--cpus", "0,1", NULL);
    parse_fails("--cpus: 4 CPUs given for 1 workers", "--cpus", "0-3", NULL);
    /* A flag overrides the file's list, "none" unpins. */
    char path[512];
    write_file("cpus.conf", "workers = 2\ncpus = 0,1\n", path, sizeof(path));
    assert_int_equal(parse(&c, "--config", path, "--cpus", "none", NULL), 0);
    assert_int_equal(c.cpus_count, 0);
    assert_int_equal(c.cpus[0], -1);
    assert_int_equal(parse(&c, "--cpus", "2-3", "--config", path, NULL), 0);
    assert_int_equal(c.cpus[0], 2);
    parse_fails("--cpus: 2 CPUs given for 3 workers", "--config", path, "--workers", "3", NULL);
    text_fails("cpus = 0,0\n", "invsync.conf:1: cpus: CPU 0 is given twice");
}

/* --- strings, topics, http, brokers, log level ----------------------------------------- */

static void test_topics(void **state) {
    (void)state;
    char name[INV_TOPIC_NAME_MAX + 2];
    memset(name, 'a', sizeof(name));
    name[INV_TOPIC_NAME_MAX] = '\0';
    inv_config c;
    assert_int_equal(parse(&c, "--topic-dlq", name, NULL), 0);
    assert_string_equal(c.topic_dlq, name);
    assert_int_equal(parse(&c, "--topic-canonical", "aZ09._-", NULL), 0);
    name[INV_TOPIC_NAME_MAX] = 'a';
    name[INV_TOPIC_NAME_MAX + 1] = '\0';
    parse_fails("--topic-dlq: value is 250 bytes, longer than 249", "--topic-dlq", name, NULL);
    parse_fails("--topic-dlq: missing value", "--topic-dlq=", NULL);
    parse_fails("--topic-canonical: '.' is not a legal topic name", "--topic-canonical", ".", NULL);
    parse_fails("--topic-canonical: '..' is not a legal topic name", "--topic-canonical", "..",
                NULL);
    parse_fails("--topic-stock-levels: 'a b' is not a legal topic name (letters, digits, '.', "
                "'_', '-')",
                "--topic-stock-levels", "a b", NULL);
    static const char *const bad[] = {"a:b", "a/b", "a\xc3\xa9", "a\tb", "a,b", "a*"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails("is not a legal topic name", "--topic-dlq", bad[i], NULL);
    }
    /* The three differ, also with '.' and '_' alike. */
    parse_fails("--topic-dlq: 'x' is also --topic-canonical", "--topic-canonical", "x",
                "--topic-dlq", "x", NULL);
    parse_fails("--topic-stock-levels: 'inventory.events.canonical' is also --topic-canonical",
                "--topic-stock-levels", "inventory.events.canonical", NULL);
    parse_fails("--topic-dlq: 'inventory_events.canonical' collides with --topic-canonical "
                "'inventory.events.canonical'",
                "--topic-dlq", "inventory_events.canonical", NULL);
    text_fails("topic-dlq = a b\n", "invsync.conf:1: topic-dlq: 'a b' is not a legal topic name");
}

static void test_strings(void **state) {
    (void)state;
    inv_config c;
    parse_fails("--group: missing value", "--group=", NULL);
    parse_fails("--data-dir: missing value", "--data-dir", "", NULL);
    parse_fails("--group: value contains a control character", "--group", "a\nb", NULL);
    char big[300];
    memset(big, 'g', sizeof(big));
    big[256] = '\0';
    parse_fails("--group: value is 256 bytes, longer than 255", "--group", big, NULL);
    big[255] = '\0';
    assert_int_equal(parse(&c, "--group", big, NULL), 0);
    assert_int_equal(strlen(c.group), 255);
    /* --kafka-config "" clears a path the file set. */
    config_defaults(&c);
    assert_int_equal(text(&c, "kafka-config = /nonexistent/k.properties\n"), 0);
    char path[512];
    write_file("kc.conf", "kafka-config = /nonexistent/k.properties\n", path, sizeof(path));
    assert_int_equal(parse(&c, "--config", path, "--kafka-config=", NULL), 0);
    assert_string_equal(c.kafka_config_path, "");
}

static void http_ok(const char *v, const char *host, unsigned port, bool enabled) {
    inv_config c;
    assert_int_equal(parse(&c, "--http", v, NULL), 0);
    assert_string_equal(c.http_host, host);
    assert_int_equal(c.http_port, port);
    assert_int_equal(c.http_enabled, enabled);
}

static void test_http(void **state) {
    (void)state;
    http_ok("127.0.0.1:8080", "127.0.0.1", 8080, true);
    http_ok("0.0.0.0:0", "0.0.0.0", 0, true);
    http_ok("10.1.2.3:65535", "10.1.2.3", 65535, true);
    http_ok("[::1]:8080", "::1", 8080, true);
    http_ok("[::]:0", "::", 0, true);
    http_ok("[fe80::1:2]:80", "fe80::1:2", 80, true);
    http_ok("off", "127.0.0.1", 8080, false);
    parse_fails("--http: ':8080' has no address (use 0.0.0.0:PORT or [::]:PORT", "--http", ":8080",
                NULL);
    parse_fails("--http: '[]:8080' is not [IPv6]:PORT", "--http", "[]:8080", NULL);
    parse_fails("--http: '127.0.0.1' has no port", "--http", "127.0.0.1", NULL);
    parse_fails("--http: 'localhost' is not a numeric IPv4 address", "--http", "localhost:80",
                NULL);
    parse_fails("--http: write an IPv6 address in brackets", "--http", "::1:8080", NULL);
    parse_fails("--http: port '65536' is not an integer in 0..65535", "--http", "1.2.3.4:65536",
                NULL);
    parse_fails("--http: port '-1' is not an integer", "--http", "1.2.3.4:-1", NULL);
    parse_fails("--http: port '' is not an integer", "--http", "1.2.3.4:", NULL);
    parse_fails("--http: port '+80' is not an integer", "--http", "1.2.3.4:+80", NULL);
    parse_fails("--http: '[::1]' is not [IPv6]:PORT", "--http", "[::1]", NULL);
    parse_fails("--http: 'zz::1' is not a numeric IPv6 address", "--http", "[zz::1]:80", NULL);
    parse_fails("--http: '1.2.3.256' is not a numeric IPv4 address", "--http", "1.2.3.256:1", NULL);
    parse_fails("--http: 'OFF' has no port", "--http", "OFF", NULL);
    text_fails("http = :80\n", "invsync.conf:1: http: ':80' has no address");
    /* off then on again: the last wins. */
    inv_config c;
    assert_int_equal(parse(&c, "--http", "off", "--http", "1.2.3.4:5", NULL), 0);
    assert_true(c.http_enabled);
    assert_string_equal(c.http_host, "1.2.3.4");
}

static void test_brokers(void **state) {
    (void)state;
    inv_config c;
    assert_int_equal(parse(&c, "--brokers", "localhost:9092", NULL), 0);
    assert_string_equal(c.brokers, "localhost:9092");
    assert_int_equal(parse(&c, "--brokers", " a:1 , b_2.example-x.com:65535,[::1]:3 ", NULL), 0);
    assert_string_equal(c.brokers, "a:1,b_2.example-x.com:65535,[::1]:3");
    assert_int_equal(parse(&c, "--brokers", "sasl_ssl://a:1,PLAINTEXT://b:2", NULL), 0);
    assert_int_equal(parse(&c, "--brokers", "", NULL), 0);
    assert_string_equal(c.brokers, "");
    static const char *const bad[] = {"a",     "a:",    "a:0",   "a:65536", ":9092",
                                      "a:b",   "a b:1", "[::1]", "[zz]:1",  "http://a:1",
                                      "a:1/x", "a:+1",  "\xff:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails("is not HOST:PORT", "--brokers", bad[i], NULL);
        assert_true(strncmp(errstr, "--brokers: ", 11) == 0);
    }
    parse_fails("--brokers: empty entry in the broker list", "--brokers", "a:1,,b:2", NULL);
    parse_fails("--brokers: empty entry in the broker list", "--brokers", "a:1,", NULL);
    char big[1100];
    size_t n = 0;
    while (n + 8 < sizeof(big))
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%sb:9092", n ? "," : "");
    parse_fails("--brokers: broker list longer than 1023 bytes", "--brokers", big, NULL);
    text_fails("brokers = a\n", "invsync.conf:1: brokers: 'a' is not HOST:PORT");
}

static void test_log_level(void **state) {
    (void)state;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    inv_config c;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(parse(&c, "--log-level", names[i], NULL), 0);
        assert_int_equal(c.log_level, i);
        assert_string_equal(config_log_level_name(i), names[i]);
    }
    assert_string_equal(config_log_level_name(4), "?");
    assert_string_equal(config_log_level_name(-1), "?");
    parse_fails("--log-level: 'trace' is not one of error, warn, info, debug", "--log-level",
                "trace", NULL);
    parse_fails("--log-level: '2' is not one of", "--log-level", "2", NULL);
    text_fails("log-level = verbose\n", "invsync.conf:1: log-level: 'verbose' is not one of");
}

/* --- precedence, files ----------------------------------------------------------------- */

static void test_precedence(void **state) {
    (void)state;
    char conf[512], kprops[512];
    write_file("k.properties", "client.id=from-file\nlinger.ms=7\n", kprops, sizeof(kprops));
    char body[1200];
    snprintf(body, sizeof(body),
             "workers = 2\ngroup = from-file\npartitions = 6\n"
             "kafka-config = %s\n",
             kprops);
    write_file("p.conf", body, conf, sizeof(conf));
    inv_config c;
    /* --config after the flags still loads first; flags override it; -X comes
     * after the properties file even when given before --config. */
    assert_int_equal(parse(&c, "-X", "client.id=x1", "--group", "from-flag", "-Xlinger.ms=9",
                           "--partitions", "3", "--partitions=4", "--config", conf, NULL),
                     0);
    assert_int_equal(c.workers, 2);
    assert_string_equal(c.group, "from-flag");
    assert_int_equal(c.partitions, 4); /* the last flag wins */
    assert_int_equal(c.kafka_props_count, 4);
    assert_prop(&c, 0, "client.id", "from-file");
    assert_prop(&c, 1, "linger.ms", "7");
    assert_prop(&c, 2, "client.id", "x1");
    assert_prop(&c, 3, "linger.ms", "9");
    char origin[600];
    snprintf(origin, sizeof(origin), "%s:2", kprops);
    assert_string_equal(c.kafka_props[1].origin, origin);
    assert_string_equal(c.kafka_props[3].origin, "-X");
    /* librdkafka sees them in that order: the last one wins. */
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    assert_int_equal(config_kafka_apply(&c, kc, errstr, sizeof(errstr)), 0);
    char v[64];
    size_t vn = sizeof(v);
    assert_int_equal(rd_kafka_conf_get(kc, "client.id", v, &vn), RD_KAFKA_CONF_OK);
    assert_string_equal(v, "x1");
    vn = sizeof(v);
    assert_int_equal(rd_kafka_conf_get(kc, "linger.ms", v, &vn), RD_KAFKA_CONF_OK);
    assert_string_equal(v, "9");
    rd_kafka_conf_destroy(kc);
    config_free(&c);

    /* --kafka-config on the command line replaces the file's. */
    char other[512];
    write_file("o.properties", "client.id=other\n", other, sizeof(other));
    assert_int_equal(parse(&c, "--config", conf, "--kafka-config", other, NULL), 0);
    assert_int_equal(c.kafka_props_count, 1);
    assert_prop(&c, 0, "client.id", "other");
    config_free(&c);

    /* An error in the config file names FILE:LINE. */
    write_file("bad.conf", "workers = 2\n\nworkers-max = 3\n", conf, sizeof(conf));
    char want[600];
    snprintf(want, sizeof(want), "%s:3: unknown setting 'workers-max'", conf);
    parse_fails(want, "--config", conf, NULL);
    write_file("bad2.conf", "partitions = 0\n", conf, sizeof(conf));
    snprintf(want, sizeof(want), "%s:1: partitions: 0 is out of range 1..1024", conf);
    parse_fails(want, "--config", conf, NULL);
    assert_string_equal(errstr, want);
}

static void test_file_errors(void **state) {
    (void)state;
    inv_config c;
    char path[512];
    snprintf(path, sizeof(path), "%s/missing.conf", scratch_dir);
    assert_int_equal(parse(&c, "--config", path, NULL), -ENOENT);
    assert_contains(errstr, "--config: cannot read '");
    assert_contains(errstr, "missing.conf': No such file or directory");
    assert_int_equal(parse(&c, "--kafka-config", path, NULL), -ENOENT);
    assert_contains(errstr, "--kafka-config: cannot read '");
    assert_int_equal(parse(&c, "--config", scratch_dir, NULL), -EISDIR);
    assert_contains(errstr, "Is a directory");
    if (geteuid() != 0) { /* root reads anything */
        write_file("secret.conf", "workers = 1\n", path, sizeof(path));
        assert_int_equal(chmod(path, 0), 0);
        assert_int_equal(parse(&c, "--config", path, NULL), -EACCES);
        assert_contains(errstr, "Permission denied");
    }
    /* Too large. */
    snprintf(path, sizeof(path), "%s/big.conf", scratch_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (unsigned i = 0; i <= INV_CONFIG_FILE_BYTES_MAX / 16; i++)
        fputs("# padding.......\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(parse(&c, "--config", path, NULL), -EFBIG);
    assert_contains(errstr, "is larger than 1048576 bytes");
    /* Exactly at the limit is fine. */
    f = fopen(path, "w");
    assert_non_null(f);
    for (unsigned i = 0; i < INV_CONFIG_FILE_BYTES_MAX / 16; i++)
        fputs("# padding......\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(parse(&c, "--config", path, NULL), 0);
    /* A device is read to its end. */
    assert_int_equal(parse(&c, "--config", "/dev/null", NULL), 0);
}

/* --- help, version ------------------------------------------------------------------- */

/* Runs config_parse with stdout sent to a file; returns what it printed. */
static char *parse_stdout(int *rc, const char *a, const char *b) {
    char path[512];
    snprintf(path, sizeof(path), "%s/stdout.txt", scratch_dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_non_null(freopen(path, "w", stdout));
    inv_config c;
    *rc = parse(&c, a, b, NULL);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *out = calloc(1, 1 << 16);
    assert_non_null(out);
    size_t n = fread(out, 1, (1 << 16) - 1, f);
    out[n] = '\0';
    fclose(f);
    config_free(&c);
    return out;
}

static void test_help_version(void **state) {
    (void)state;
    int rc;
    char *out = parse_stdout(&rc, "--version", NULL);
    assert_int_equal(rc, 1);
    assert_string_equal(out, "invsyncd " INV_VERSION "\n");
    free(out);
    /* --help wins over an error elsewhere in argv. */
    out = parse_stdout(&rc, "--workers=0", "--help");
    assert_int_equal(rc, 1);
    assert_string_equal(errstr, "");
    static const char *const lines[] = {"--config FILE",
                                        "--brokers HOST:PORT[,..]",
                                        "(default: \"\")",
                                        "--group ID",
                                        "(default: inventory-sync)",
                                        "--workers N",
                                        "(default: 1)",
                                        "--cpus LIST",
                                        "(default: none)",
                                        "--data-dir DIR",
                                        "(default: ./data)",
                                        "--http ADDR:PORT",
                                        "(default: 127.0.0.1:8080)",
                                        "--kafka-config FILE",
                                        "--topic-canonical TOPIC",
                                        "(default: inventory.events.canonical)",
                                        "--topic-stock-levels TOPIC",
                                        "(default: inventory.stock-levels)",
                                        "--topic-dlq TOPIC",
                                        "(default: inventory.events.dlq)",
                                        "--partitions N",
                                        "(default: 12)",
                                        "--replication-factor N",
                                        "(default: -1)",
                                        "--flush-interval-ms MS",
                                        "(default: 50)",
                                        "--dedup-window-ms MS",
                                        "(default: 86400000)",
                                        "--dedup-ids-max N",
                                        "(default: 1048576)",
                                        "--embedded-brokers N",
                                        "--log-level LEVEL",
                                        "(default: info)",
                                        "-X NAME=VALUE",
                                        "--help",
                                        "--version"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        assert_contains(out, lines[i]);
    free(out);
    out = parse_stdout(&rc, "-h", NULL);
    assert_int_equal(rc, 1);
    assert_contains(out, "Usage: invsyncd");
    free(out);
}

/* --- librdkafka properties -------------------------------------------------------------- */

static void test_properties_syntax(void **state) {
    (void)state;
    inv_config c;
    config_defaults(&c);
    assert_int_equal(props(&c, "# comment\n"
                               "! also a comment\n"
                               "\n"
                               "   \t\n"
                               "security.protocol=SASL_SSL\n"
                               "  sasl.mechanism : PLAIN\n"
                               "sasl.username=alice\r\n"
                               "sasl.password = p#ss!word=:x  \n"
                               "ssl.ca.location=C:\\\\certs\\\\ca.pem\n"
                               "client.id=a\\tb\\u00e9\\uD83D\\uDE00\\x\n"
                               "linger.ms=\n"
                               "socket.timeout.ms=1\\\n"
                               "    0000\n"
                               "# a comment line ending in a backslash does not continue \\\n"
                               "debug=broker"),
                     0);
    assert_int_equal(c.kafka_props_count, 9);
    assert_prop(&c, 0, "security.protocol", "SASL_SSL");
    assert_prop(&c, 1, "sasl.mechanism", "PLAIN");
    assert_prop(&c, 2, "sasl.username", "alice");
    assert_prop(&c, 3, "sasl.password", "p#ss!word=:x  "); /* trailing spaces kept, as Java */
    assert_prop(&c, 4, "ssl.ca.location", "C:\\certs\\ca.pem");
    assert_prop(&c, 5, "client.id", "a\tb\xc3\xa9\xf0\x9f\x98\x80x");
    assert_prop(&c, 6, "linger.ms", "");
    assert_prop(&c, 7, "socket.timeout.ms", "10000");
    assert_prop(&c, 8, "debug", "broker");
    assert_string_equal(c.kafka_props[0].origin, "client.properties:5");
    assert_string_equal(c.kafka_props[7].origin, "client.properties:12");
    assert_string_equal(c.kafka_props[8].origin, "client.properties:15");
    config_free(&c);
}

static void test_properties_errors(void **state) {
    (void)state;
    props_fails("a=1\nhunter2\n", "client.properties:2: expected name=value or name: value");
    assert_not_contains(errstr, "hunter2");
    props_fails("sasl.password hunter2\n", "client.properties:1: expected name=value");
    assert_not_contains(errstr, "hunter2");
    props_fails("sasl.password hunt=er2\n", "client.properties:1: not a property name");
    assert_not_contains(errstr, "hunt");
    props_fails("=x\n", "client.properties:1: not a property name");
    props_fails("a\\b=x\n", "client.properties:1: not a property name");
    props_fails("a=\\u12\n", "client.properties:1: a: malformed \\u escape or NUL");
    props_fails("a=\\u0000\n", "malformed \\u escape or NUL");
    props_fails("a=\\uDC00\n", "malformed \\u escape");
    props_fails("a=\\uD800x\n", "malformed \\u escape");
    static const char nul[] = "a=1\nb=x\0y\n";
    inv_config c;
    config_defaults(&c);
    assert_int_equal(config_parse_kafka_properties(&c, nul, sizeof(nul) - 1, "n.properties", errstr,
                                                   sizeof(errstr)),
                     -EINVAL);
    assert_contains(errstr, "n.properties:2: NUL byte");
    config_free(&c);
    /* Properties invsync owns name the flag or the reason. */
    static const struct {
        const char *line, *want;
    } owned[] = {
        {"bootstrap.servers=k:9092", "'bootstrap.servers' is set by invsync; use --brokers"},
        {"metadata.broker.list=k:9092", "'metadata.broker.list' is set by invsync; use --brokers"},
        {"group.id=g", "'group.id' is set by invsync; use --group"},
        {"enable.auto.commit=true", "'enable.auto.commit' is set by invsync; exactly-once"},
        {"auto.commit.enable=true", "'auto.commit.enable' is set by invsync"},
        {"enable.auto.offset.store=true", "'enable.auto.offset.store' is set by invsync"},
        {"enable.idempotence=false", "'enable.idempotence' is set by invsync"},
        {"delivery.report.only.error=false",
         "'delivery.report.only.error' is set by invsync; exactly-once depends on it"},
        {"partitioner=random", "'partitioner' is set by invsync; exactly-once depends on it"},
        {"Group.Id=g", "'Group.Id' is set by invsync; use --group"},
    };
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "linger.ms=1\n%s\n", owned[i].line);
        props_fails(line, "client.properties:2: ");
        assert_contains(errstr, owned[i].want);
        parse_fails(owned[i].want, "-X", owned[i].line, NULL);
        assert_true(strncmp(errstr, "-X: ", 4) == 0);
    }
    /* At most INV_KAFKA_PROPS_MAX. */
    config_defaults(&c);
    for (int i = 0; i < INV_KAFKA_PROPS_MAX; i++) {
        assert_int_equal(config_add_kafka_prop(&c, "linger.ms=1", errstr, sizeof(errstr)), 0);
    }
    assert_int_equal(config_add_kafka_prop(&c, "linger.ms=1", errstr, sizeof(errstr)), -EINVAL);
    assert_contains(errstr, "more than 256 librdkafka properties");
    config_free(&c);
}

static void test_x_flag(void **state) {
    (void)state;
    inv_config c;
    assert_int_equal(parse(&c, "-X", "linger.ms=5", "-Xclient.id=a=b", "-X", "client.rack=", NULL),
                     0);
    assert_int_equal(c.kafka_props_count, 3);
    assert_prop(&c, 0, "linger.ms", "5");
    assert_prop(&c, 1, "client.id", "a=b");
    assert_prop(&c, 2, "client.rack", "");
    config_free(&c);
    config_free(&c); /* idempotent */
    assert_int_equal(c.kafka_props_count, 0);
    parse_fails("-X: missing NAME=VALUE", "-X", NULL);
    parse_fails("unexpected argument 3", "-X", "sasl.password", "hunter2", NULL);
    assert_not_contains(errstr, "hunter2");
    parse_fails("-X: expected NAME=VALUE", "-X", "sasl.password", NULL);
    assert_not_contains(errstr, "hunter2");
    parse_fails("-X: expected NAME=VALUE", "-Xlinger.ms", NULL);
    parse_fails("-X: not a property name", "-X", "=5", NULL);
    parse_fails("-X: not a property name", "-X", "sasl.password hunter2=x", NULL);
    assert_not_contains(errstr, "hunter2");
}

static void test_kafka_validate(void **state) {
    (void)state;
    inv_config c;
    parse_fails("-X: kafka property 'no.such.property': No such configuration property", "-X",
                "no.such.property=1", NULL);
    parse_fails("-X: kafka property 'socket.timeout.ms': ", "-X", "socket.timeout.ms=abc", NULL);
    parse_fails("-X: kafka property 'security.protocol': Invalid value \"bogus\"", "-X",
                "security.protocol=bogus", NULL);
    parse_fails("-X: kafka property 'sasl.jaas.config': ", "-X", "sasl.jaas.config=hunter2", NULL);
    assert_not_contains(errstr, "hunter2");
    parse_fails("-X: kafka property 'ssl.truststore.location': ", "-X",
                "ssl.truststore.location=/x.jks", NULL);
    char kprops[512], want[700];
    write_file("bad.properties", "linger.ms=1\n\nacks=several\n", kprops, sizeof(kprops));
    snprintf(want, sizeof(want), "%s:3: kafka property 'acks': ", kprops);
    parse_fails(want, "--kafka-config", kprops, NULL);
    /* Valid properties pass; config_kafka_validate alone too. */
    assert_int_equal(parse(&c, "-X", "security.protocol=sasl_ssl", "-X", "acks=all", "-X",
                           "auto.offset.reset=earliest", "-X", "compression.type=lz4", NULL),
                     0);
    assert_int_equal(config_kafka_validate(&c, errstr, sizeof(errstr)), 0);
    config_free(&c);
    /* config_kafka_apply reports the same on a caller's conf. */
    config_defaults(&c);
    assert_int_equal(config_add_kafka_prop(&c, "queue.buffering.max.ms=-5", errstr, sizeof(errstr)),
                     0);
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    assert_int_equal(config_kafka_apply(&c, kc, errstr, sizeof(errstr)), -EINVAL);
    assert_contains(errstr, "-X: kafka property 'queue.buffering.max.ms': ");
    rd_kafka_conf_destroy(kc);
    assert_int_equal(config_kafka_validate(&c, errstr, sizeof(errstr)), -EINVAL);
    config_free(&c);
}

/* --- secrets --------------------------------------------------------------------------- */

static void test_is_secret(void **state) {
    (void)state;
    static const char *const secret[] = {"sasl.password",
                                         "SASL.PASSWORD",
                                         "ssl.key.password",
                                         "ssl.keystore.password",
                                         "ssl.key.pem",
                                         "ssl_key.pem",
                                         "ssl.certificate.pem",
                                         "ssl.ca.pem",
                                         "sasl.jaas.config",
                                         "sasl.oauthbearer.config",
                                         "sasl.oauthbearer.client.secret",
                                         "sasl.oauthbearer.extensions",
                                         "my.api.token",
                                         "aws.credentials",
                                         "x.apikey",
                                         "ssl_key",
                                         "private.key",
                                         "db.passwd"};
    static const char *const plain[] = {"sasl.username",
                                        "security.protocol",
                                        "ssl.key.location",
                                        "ssl.ca.location",
                                        "ssl.keystore.location",
                                        "sasl.mechanism",
                                        "client.id",
                                        "linger.ms",
                                        "debug",
                                        "sasl.kerberos.keytab",
                                        "ssl.certificate.location"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (!config_is_secret(secret[i])) fail_msg("%s should be secret", secret[i]);
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (config_is_secret(plain[i])) fail_msg("%s should not be secret", plain[i]);
    }
}

static void test_secrets_never_shown(void **state) {
    (void)state;
    char kprops[512];
    write_file("s.properties",
               "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=alice\n"
               "sasl.password=hunter2\nssl.key.password=hunter2\n"
               "ssl.key.pem=-----BEGIN hunter2\\n-----END\n",
               kprops, sizeof(kprops));
    inv_config c;
    assert_int_equal(parse(&c, "--kafka-config", kprops, "-X", "sasl.password=hunter2", "-X",
                           "client.id=vis\nible", NULL),
                     0);
    char *d = dump(&c);
    assert_not_contains(d, "hunter2");
    assert_contains(d, "# kafka: sasl.password = [redacted]\n");
    assert_contains(d, "# kafka: ssl.key.password = [redacted]\n");
    assert_contains(d, "# kafka: ssl.key.pem = [redacted]\n");
    assert_contains(d, "# kafka: sasl.username = alice\n");
    assert_contains(d, "# kafka: client.id = vis\\nible\n"); /* one line per property */
    free(d);
    config_free(&c);

    /* Invalid-valued secrets: librdkafka's message is kept only when it does
     * not quote the value. This librdkafka build may lack OAuth/OIDC, which
     * makes any value of sasl.oauthbearer.client.secret invalid, with a
     * message that contains "OAuth/OIDC". */
    inv_config probe;
    config_defaults(&probe);
    assert_int_equal(config_add_kafka_prop(&probe, "sasl.oauthbearer.client.secret=OAuth/OIDC",
                                           errstr, sizeof(errstr)),
                     0);
    if (config_kafka_validate(&probe, errstr, sizeof(errstr)) != 0) {
        assert_string_equal(errstr, "-X: kafka property 'sasl.oauthbearer.client.secret': "
                                    "invalid value (not shown: the property is secret)");
        parse_fails("-X: kafka property 'sasl.oauthbearer.client.secret': ", "-X",
                    "sasl.oauthbearer.client.secret=hunter2", NULL);
        assert_not_contains(errstr, "hunter2");
    }
    config_free(&probe);
    parse_fails("kafka property 'my.secret.thing': No such configuration property", "-X",
                "my.secret.thing=hunter2", NULL);
    assert_not_contains(errstr, "hunter2");
    write_file("s2.properties", "sasl.password=hunter2\nsasl.oauthbearer.method=hunter2\n", kprops,
               sizeof(kprops));
    parse_fails("kafka property 'sasl.oauthbearer.method'", "--kafka-config", kprops, NULL);
    /* sasl.oauthbearer.method is not secret: its value may show; the password never. */
    write_file("s3.properties",
               "sasl.password=hunter2\nsasl.password:\\\n  hunter2\n"
               "sasl.password hunter2\n",
               kprops, sizeof(kprops));
    parse_fails(":4: expected name=value", "--kafka-config", kprops, NULL);
    assert_not_contains(errstr, "hunter2");
    /* A non-secret property whose librdkafka message quotes the value still shows it. */
    parse_fails("Invalid value \"hunter3\"", "-X", "debug=hunter3", NULL);
}

/* --- dump ---------------------------------------------------------------------------- */

/* config_dump(c) parses back into the same settings, and dumps the same. */
static void check_round_trip(const inv_config *c) {
    char *d = dump(c);
    inv_config back;
    config_defaults(&back);
    int rc = config_parse_text(&back, d, strlen(d), "dump", errstr, sizeof(errstr));
    if (rc != 0) fail_msg("dump does not parse: %s\n%s", errstr, d);
    assert_settings_equal(c, &back);
    char *d2 = dump(&back);
    assert_string_equal(d, d2);
    free(d);
    free(d2);
}

static void test_dump(void **state) {
    (void)state;
    inv_config c;
    config_defaults(&c);
    char *d = dump(&c);
    assert_string_equal(d, "brokers = \"\"\n"
                           "group = inventory-sync\n"
                           "workers = 1\n"
                           "cpus = none\n"
                           "data-dir = ./data\n"
                           "http = 127.0.0.1:8080\n"
                           "kafka-config = \"\"\n"
                           "topic-canonical = inventory.events.canonical\n"
                           "topic-stock-levels = inventory.stock-levels\n"
                           "topic-dlq = inventory.events.dlq\n"
                           "partitions = 12\n"
                           "replication-factor = -1\n"
                           "flush-interval-ms = 50\n"
                           "dedup-window-ms = 86400000\n"
                           "dedup-ids-max = 1048576\n"
                           "embedded-brokers = 1\n"
                           "log-level = info\n");
    free(d);
    check_round_trip(&c);
    config_defaults(&c);
    assert_int_equal(text(&c, all_settings_file), 0);
    check_round_trip(&c);
    d = dump(&c);
    assert_contains(d, "cpus = 0,1,4,7\n");
    assert_contains(d, "http = [::1]:9000\n");
    assert_contains(d, "group = g 1\n");
    free(d);
    /* Values that need quotes. */
    config_defaults(&c);
    assert_int_equal(text(&c, "group = \" #\\\"x\\\\ \"\ndata-dir = \"\\\"d\"\nhttp = off\n"
                              "cpus = 3-7,0,1\nworkers = 7\n"),
                     0);
    check_round_trip(&c);
    d = dump(&c);
    assert_contains(d, "group = \" #\\\"x\\\\ \"\n");
    assert_contains(d, "http = off\n");
    assert_contains(d, "cpus = 3-7,0,1\n");
    free(d);
}

/* --- memory ------------------------------------------------------------------------- */

static void test_free_idempotent(void **state) {
    (void)state;
    inv_config c;
    config_defaults(&c);
    config_free(&c);
    assert_int_equal(props(&c, "a.b=1\nc.d=2\n"), 0);
    assert_int_equal(c.kafka_props_count, 2);
    config_free(&c);
    assert_int_equal(c.kafka_props_count, 0);
    assert_null(c.kafka_props[0].name);
    config_free(&c);
    /* A failed parse leaves nothing to free. */
    assert_int_equal(parse(&c, "-X", "linger.ms=1", "-X", "nope.nope=1", NULL), -EINVAL);
    assert_int_equal(c.kafka_props_count, 0);
    config_free(&c);
}

/* Every allocation of a full parse fails in turn: -ENOMEM, nothing leaked. */
static void test_alloc_failure(void **state) {
    (void)state;
    char kprops[512];
    write_file("m.properties", "linger.ms=1\nclient.id=a\n", kprops, sizeof(kprops));
    char conf[512], body[700];
    snprintf(body, sizeof(body), "workers = 2\nkafka-config = %s\n", kprops);
    write_file("m.conf", body, conf, sizeof(conf));
    int failures = 0;
    for (long n = 0; n < 100; n++) {
        inv_config c;
        config_test_alloc_fail_after(n);
        int rc = parse(&c, "--config", conf, "-X", "acks=1", NULL);
        config_test_alloc_fail_after(-1);
        if (rc == 0) {
            assert_int_equal(c.kafka_props_count, 3);
            config_free(&c);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_true(errstr[0] != '\0');
        assert_int_equal(c.kafka_props_count, 0);
        failures++;
    }
    assert_true(failures >= 8); /* two file reads, two text buffers, three props... */
    assert_true(failures < 100);
}

/* --- set-up -------------------------------------------------------------------------- */

static int group_setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch_dir, sizeof(scratch_dir), "%s/test_config.XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

static int group_teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_flag),
        cmocka_unit_test(test_every_file_setting),
        cmocka_unit_test(test_file_syntax),
        cmocka_unit_test(test_unknown_settings),
        cmocka_unit_test(test_integer_settings),
        cmocka_unit_test(test_replication_factor),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_brokers),
        cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_properties_syntax),
        cmocka_unit_test(test_properties_errors),
        cmocka_unit_test(test_x_flag),
        cmocka_unit_test(test_kafka_validate),
        cmocka_unit_test(test_is_secret),
        cmocka_unit_test(test_secrets_never_shown),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_free_idempotent),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
