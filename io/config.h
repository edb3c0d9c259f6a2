/* config.h - the configuration of invsyncd: flags, config file, librdkafka properties.
 *
 * Three sources, applied in a fixed order (later wins):
 *   1. the defaults (config_defaults);
 *   2. the config file of --config FILE: "name = value" lines, the long flag
 *      names without dashes (config_parse_text);
 *   3. every flag, in argv order;
 * then the librdkafka properties, appended in order to kafka_props:
 *   4. the properties file of --kafka-config FILE (config_parse_kafka_properties);
 *   5. every -X name=value flag, in argv order.
 * librdkafka applies them in that order, so a later property overrides an
 * earlier one. Anything unknown, missing, malformed or out of range fails at
 * start-up with a message naming the setting (and FILE:LINE for a file).
 *
 * Properties invsync sets itself because exactly-once depends on them
 * (bootstrap.servers, group.id, enable.auto.commit, enable.idempotence,
 * partitioner, ...) are rejected, naming the flag to use instead.
 *
 * Secrets: the value of a property config_is_secret() names never appears in
 * an error string or in config_dump. Error messages echo names and the values
 * of invsync's own settings (none of which is secret), never a property
 * value and never a positional argument.
 *
 * Paths are used as given (relative ones to the working directory, not to the
 * config file). Threading rules are stated per function; nothing here keeps
 * global state except the allocation-failure hook for tests. */
#ifndef INV_CONFIG_H
#define INV_CONFIG_H

#include <limits.h> /* PATH_MAX */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

#include "inv_limits.h" /* INV_WORKERS_MAX, INV_PARTITIONS_MAX, INV_DEDUP_* */

#ifndef INV_VERSION
#define INV_VERSION "0.1.0"
#endif

#define INV_KAFKA_PROPS_MAX 256
#define INV_TOPIC_NAME_MAX 249
/* Bounds of the config parser (inv_limits.h is their natural home). */
#define INV_CONFIG_FILE_BYTES_MAX (1u << 20) /* --config and --kafka-config files */
#define INV_CONFIG_CPU_ID_MAX 1023           /* highest CPU number --cpus accepts (CPU_SETSIZE - 1) */
#define INV_KAFKA_PROP_NAME_MAX 255          /* longest librdkafka property name accepted */
#define INV_EMBEDDED_BROKERS_MAX 9
#define INV_FLUSH_INTERVAL_MS_MAX 60000
#define INV_DEDUP_WINDOW_MS_MIN 1000LL
#define INV_DEDUP_WINDOW_MS_MAX (30LL * 24 * 3600 * 1000) /* 30 days */

/* One librdkafka property. name, value and origin are owned (malloc); origin
 * says where it came from ("client.properties:12" or "-X") for messages and
 * may be NULL. */
typedef struct inv_kafka_prop {
    char *name;
    char *value;
    char *origin;
} inv_kafka_prop;

typedef struct inv_config {
    char brokers[1024];            /* --brokers HOST:PORT[,..]; "" = embedded mock cluster (default) */
    char group[256];               /* --group, default "inventory-sync" */
    uint32_t workers;              /* --workers, default 1, 1..INV_WORKERS_MAX */
    int cpus[INV_WORKERS_MAX];     /* --cpus "0,2" or "0-3" or "0-1,4"; default all -1 (not pinned) */
    uint32_t cpus_count;           /* number of CPUs given; when given it must equal workers */
    char data_dir[PATH_MAX];       /* --data-dir, default "./data" */
    char http_host[256];           /* --http ADDR:PORT, default 127.0.0.1:8080; "[::1]:8080" IPv6 form
                                      too. Holds the numeric address without brackets ("::1"). */
    uint16_t http_port;            /* 0 = pick a free port (the API logs it) */
    bool http_enabled;             /* --http off disables it; default true */
    char kafka_config_path[PATH_MAX]; /* --kafka-config FILE (librdkafka properties); "" = none */
    char topic_canonical[INV_TOPIC_NAME_MAX + 1];    /* --topic-canonical, default inventory.events.canonical */
    char topic_stock_levels[INV_TOPIC_NAME_MAX + 1]; /* --topic-stock-levels, default inventory.stock-levels */
    char topic_dlq[INV_TOPIC_NAME_MAX + 1];          /* --topic-dlq, default inventory.events.dlq */
    int32_t partitions;            /* --partitions: for topics invsync creates, default 12, 1..INV_PARTITIONS_MAX */
    int16_t replication_factor;    /* --replication-factor, default -1 = min(3, brokers in the cluster) */
    uint32_t flush_interval_ms;    /* --flush-interval-ms, default 50, 1..60000 */
    int64_t dedup_window_ms;       /* --dedup-window-ms, default INV_DEDUP_WINDOW_MS_DEFAULT, 1000..30 days */
    uint32_t dedup_ids_max;        /* --dedup-ids-max per partition, default INV_DEDUP_IDS_MAX_DEFAULT, INV_DEDUP_IDS_MIN..INV_DEDUP_IDS_MAX */
    uint32_t embedded_brokers;     /* --embedded-brokers, default 1, 1..9 (mock cluster size) */
    int log_level;                 /* --log-level error|warn|info|debug (0..3), default info (2);
                                      the values of io/log.h's INV_LOG_* */
    inv_kafka_prop kafka_props[INV_KAFKA_PROPS_MAX]; /* from --kafka-config, then each -X name=value, in order */
    uint32_t kafka_props_count;
} inv_config;

/* Any thread. Fills c with the defaults above (no allocation). c must not
 * hold kafka props (config_free them first). */
void config_defaults(inv_config *c);

/* Control thread at start-up. Parses argv: defaults, then the config file of
 * --config FILE (wherever it appears in argv), then every flag in order
 * (flags override the file; a flag given twice: the last wins), then the
 * librdkafka properties file, then -X name=value flags, then config_validate
 * and config_kafka_validate. Accepts "--name value" and "--name=value" (a
 * separate value may not start with "--"). Returns 0; 1 when --help (-h) or
 * --version was handled (usage/version printed to stdout; caller exits 0);
 * -EINVAL with errstr naming the setting (and FILE:LINE for a file) for
 * anything unknown, missing, malformed or out of range; -ENOENT/-EACCES (or
 * another -errno) when a file cannot be read (errstr names it); -ENOMEM. On
 * any error c holds no kafka props. c must not hold kafka props on entry. */
int config_parse(inv_config *c, int argc, char **argv, char *errstr, size_t errstr_len);

/* Any thread. Parses the text of a config file (len bytes, not NUL-terminated;
 * origin names it in errors) into c: lines "name = value" with the long flag
 * names without dashes, '#' comments (a whole line, or after whitespace
 * outside quotes), blank lines, surrounding whitespace trimmed, values
 * optionally in double quotes (inside them \" and \\ are the only escapes).
 * A setting given twice in one file is an error. Same validation and messages
 * as the flags; no cross-checks (config_validate does them). 0 or -EINVAL. */
int config_parse_text(inv_config *c, const char *text, size_t len, const char *origin,
                      char *errstr, size_t errstr_len);

/* Any thread. Parses a librdkafka properties file text, appending to
 * c->kafka_props. Java .properties syntax with one restriction: a property is
 * "name=value" or "name: value" (a name without '=' or ':' is an error, so a
 * stray line is never echoed as a name). '#' and '!' start comment lines;
 * leading whitespace and whitespace around the separator are skipped, the
 * rest of the line is the value (trailing whitespace kept, as Java does); a
 * line ending in an odd number of backslashes continues on the next; values
 * take Java's escapes (\t \n \r \f \\ \uXXXX; \x is x). Names are
 * [A-Za-z0-9._-]. Rejects properties invsync owns, naming the flag to use
 * instead. 0, -EINVAL, -ENOMEM; on failure the properties of earlier lines
 * stay appended (config_free releases them). */
int config_parse_kafka_properties(inv_config *c, const char *text, size_t len, const char *origin,
                                  char *errstr, size_t errstr_len);

/* Any thread. Parses one -X argument "name=value" (origin "-X") and appends
 * it to c->kafka_props, with the checks of config_parse_kafka_properties.
 * 0, -EINVAL, -ENOMEM. */
int config_add_kafka_prop(inv_config *c, const char *name_eq_value, char *errstr,
                          size_t errstr_len);

/* Any thread. Parses a --cpus list ("0,2", "0-3", "0-1,4"; "none" or "" =
 * not pinned) into cpus[0..*count) in worker order. Rejects a CPU above
 * INV_CONFIG_CPU_ID_MAX, a CPU given twice, a backwards range and more than
 * INV_WORKERS_MAX CPUs. errstr is prefixed "--cpus: ". 0 or -EINVAL; on
 * failure cpus and *count are unchanged. */
int config_parse_cpus(const char *text, int cpus[INV_WORKERS_MAX], uint32_t *count, char *errstr,
                      size_t errstr_len);

/* Any thread. The cross-checks of the final settings: cpus_count == workers
 * when --cpus is given; the three topic names differ (also after mapping '.'
 * to '_', which Kafka treats as a collision); with the embedded cluster, a
 * replication factor no larger than --embedded-brokers. 0 or -EINVAL. */
int config_validate(const inv_config *c, char *errstr, size_t errstr_len);

/* Control thread. Applies every kafka prop to conf with rd_kafka_conf_set, in
 * order. Returns 0, or -EINVAL with errstr naming the property (and its
 * origin) and librdkafka's message; the value of a secret property never
 * appears in errstr. */
int config_kafka_apply(const inv_config *c, rd_kafka_conf_t *conf, char *errstr, size_t errstr_len);

/* Control thread at start-up. Checks every kafka prop is known to librdkafka
 * and valid by applying them to a scratch rd_kafka_conf_new() (librdkafka
 * checks a property the same way for consumers and producers; role-specific
 * properties are accepted by both). Same errors as config_kafka_apply, or
 * -ENOMEM. Called by config_parse at the end. */
int config_kafka_validate(const inv_config *c, char *errstr, size_t errstr_len);

/* Any thread. True when a property's value is secret (case-insensitive): any
 * name containing password, passwd, secret, token, credential, jaas, private,
 * apikey/api.key, ".pem"/"_pem", ssl_key, or sasl.oauthbearer.config /
 * .extensions. Errs on the side of redacting (ssl.certificate.pem is
 * redacted although a certificate is public). */
bool config_is_secret(const char *name);

/* Any thread. Writes every setting, one "name = value" line each in the
 * config file syntax (values quoted when needed), so the dump can be used as
 * a config file; then the kafka props as comment lines "# kafka: name =
 * value" (comments because they belong in the properties file), secrets as
 * "[redacted]". */
void config_dump(const inv_config *c, FILE *out);

/* Any thread. Writes the usage text: every flag with its default, one line each. */
void config_usage(FILE *out);

/* Any thread. "error", "warn", "info", "debug" for 0..3, else "?". */
const char *config_log_level_name(int level);

/* Any thread. Frees the kafka props (c stays valid as defaults-like;
 * idempotent). */
void config_free(inv_config *c);

/* Tests only, not thread-safe. Makes the n-th allocation of this module from
 * now (0 = the next one) and every later one fail, until called with -1. */
void config_test_alloc_fail_after(long n);

#endif
