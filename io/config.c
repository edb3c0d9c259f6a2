/* config.c - flags, the config file and librdkafka properties of invsyncd.
 *
 * One table (cfg_settings) describes every setting: its name (the file name;
 * the flag is "--" name), how it is parsed and checked, how it is printed,
 * and its help line. The flag parser, the file parser, config_dump and the
 * usage text all walk that table, so a setting cannot be accepted in one
 * place and forgotten in another, and a dump always parses back to the same
 * settings.
 *
 * Every parser here is bounded by its input: one pass over the text or argv,
 * values copied into fixed buffers with their length checked first, ranges
 * (--cpus 0-1000000) stopped at INV_WORKERS_MAX CPUs. Files are read whole,
 * at most INV_CONFIG_FILE_BYTES_MAX bytes.
 *
 * Secrets: error messages echo setting names and the values of invsync's own
 * settings, which are never secret; they never echo a librdkafka property
 * value, a malformed property line or a positional argument. librdkafka's own
 * message for a secret property is dropped when it quotes the value. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inv_assert.h"

#define CFG_SHOW_MAX        64               /* bytes of a value echoed in a message */
#define CFG_WHERE_MAX       (PATH_MAX + 128) /* "FILE:LINE: name" */
#define CFG_VALUE_MAX       PATH_MAX         /* longest value of a setting, with its NUL */
#define CFG_FORMAT_MAX      (PATH_MAX + 16)  /* a formatted setting value */
#define CFG_SUGGEST_LEN_MAX 40               /* names longer than this get no "did you mean" */

_Static_assert(INV_CONFIG_FILE_BYTES_MAX < (1u << 31), "file sizes fit an int");
_Static_assert(INV_WORKERS_MAX <= INV_CONFIG_CPU_ID_MAX + 1, "enough CPU ids for every worker");
_Static_assert(INV_DEDUP_WINDOW_MS_DEFAULT >= INV_DEDUP_WINDOW_MS_MIN &&
                   INV_DEDUP_WINDOW_MS_DEFAULT <= INV_DEDUP_WINDOW_MS_MAX,
               "default dedup window in range");
_Static_assert(INV_DEDUP_IDS_MAX_DEFAULT >= INV_DEDUP_IDS_MIN &&
                   INV_DEDUP_IDS_MAX_DEFAULT <= INV_DEDUP_IDS_MAX,
               "default dedup ids in range");

/* --- allocation, with a failure hook for tests ------------------------------ */

static long cfg_alloc_fail_countdown = -1; /* -1: never fail */

void config_test_alloc_fail_after(long n) {
    inv_assert(n >= -1);
    cfg_alloc_fail_countdown = n;
}

static bool cfg_alloc_should_fail(void) {
    if (cfg_alloc_fail_countdown < 0) return false;
    if (cfg_alloc_fail_countdown == 0) return true;
    cfg_alloc_fail_countdown--;
    return false;
}

static void *cfg_malloc(size_t n) {
    inv_assert(n > 0);
    return cfg_alloc_should_fail() ? NULL : malloc(n);
}

static void *cfg_realloc(void *p, size_t n) {
    inv_assert(n > 0);
    return cfg_alloc_should_fail() ? NULL : realloc(p, n);
}

/* A NUL-terminated copy of n bytes of s, or NULL. */
static char *cfg_strndup(const char *s, size_t n) {
    inv_assert(s != NULL || n == 0);
    char *p = cfg_malloc(n + 1);
    if (p == NULL) return NULL;
    if (n > 0) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* --- messages ---------------------------------------------------------------- */

/* Formats errstr (when it has room) and returns code. */
__attribute__((format(printf, 4, 5))) static int cfg_fail(int code, char *errstr, size_t errstr_len,
                                                          const char *fmt, ...) {
    inv_assert(code < 0);
    inv_assert(errstr != NULL || errstr_len == 0);
    if (errstr_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

#define cfg_err(errstr, len, ...) cfg_fail(-EINVAL, errstr, len, __VA_ARGS__)

/* A printable copy of the first n bytes of s for a message: bytes outside
 * printable ASCII become '?', and a long value is cut with "...". */
static const char *show_n(const char *s, size_t n, char out[CFG_SHOW_MAX + 4]) {
    size_t k = n < CFG_SHOW_MAX ? n : CFG_SHOW_MAX;
    for (size_t i = 0; i < k; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (n > CFG_SHOW_MAX) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static const char *show(const char *s, char out[CFG_SHOW_MAX + 4]) {
    return show_n(s, strlen(s), out);
}

/* Edit distance of a and b (both at most CFG_SUGGEST_LEN_MAX bytes), with a
 * swap of two neighbours counting 1 (optimal string alignment), for "did you
 * mean". */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn) {
    inv_assert(an <= CFG_SUGGEST_LEN_MAX);
    inv_assert(bn <= CFG_SUGGEST_LEN_MAX);
    size_t d[CFG_SUGGEST_LEN_MAX + 1][CFG_SUGGEST_LEN_MAX + 1];
    for (size_t i = 0; i <= an; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= bn; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= an; i++) {
        for (size_t j = 1; j <= bn; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best) {
                best = d[i - 2][j - 2] + 1;
            }
            d[i][j] = best;
        }
    }
    return d[an][bn];
}

static bool is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static bool has_control(const char *s) {
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f) return true;
    }
    return false;
}

static bool is_digit(char ch) {
    return ch >= '0' && ch <= '9';
}

/* --- integers ---------------------------------------------------------------- */

/* Strict decimal: an optional '-', then digits, nothing else (no '+', no
 * spaces, no 0x). False when malformed; *overflow when it does not fit an
 * int64_t (the text is still well-formed). */
static bool parse_int(const char *s, int64_t *out, bool *overflow) {
    inv_assert(s != NULL);
    inv_assert(out != NULL);
    bool neg = s[0] == '-';
    const char *p = s + neg;
    if (*p == '\0') return false;
    uint64_t mag = 0;
    bool over = false;
    for (; *p != '\0'; p++) {
        if (!is_digit(*p)) return false;
        unsigned d = (unsigned)(*p - '0');
        if (mag > (UINT64_MAX - d) / 10) {
            over = true;
        } else {
            mag = mag * 10 + d;
        }
    }
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    *overflow = over || mag > lim;
    if (*overflow) return true;
    *out = neg ? (mag == lim ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    return true;
}

/* Parses v as an integer in [min, max]; errors name where. */
static int parse_int_range(const char *v, int64_t min, int64_t max, const char *where, int64_t *out,
                           char *errstr, size_t errstr_len) {
    inv_assert(min <= max);
    char shown[CFG_SHOW_MAX + 4];
    bool overflow = false;
    if (*v == '\0') {
        return cfg_err(errstr, errstr_len, "%s: missing value (expected %lld..%lld)", where,
                       (long long)min, (long long)max);
    }
    if (!parse_int(v, out, &overflow)) {
        return cfg_err(errstr, errstr_len, "%s: '%s' is not an integer (expected %lld..%lld)",
                       where, show(v, shown), (long long)min, (long long)max);
    }
    if (overflow || *out < min || *out > max) {
        return cfg_err(errstr, errstr_len, "%s: %s is out of range %lld..%lld", where,
                       show(v, shown), (long long)min, (long long)max);
    }
    return 0;
}

/* --- string checks ----------------------------------------------------------- */

static bool topic_char_ok(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '.' ||
           ch == '_' || ch == '-';
}

/* Kafka's rule for topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static int check_topic(const char *v, const char *where, char *errstr, size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    size_t n = strlen(v);
    if (n == 0) return cfg_err(errstr, errstr_len, "%s: missing topic name", where);
    if (n > INV_TOPIC_NAME_MAX) {
        return cfg_err(errstr, errstr_len, "%s: topic name is %zu bytes, longer than %d", where, n,
                       INV_TOPIC_NAME_MAX);
    }
    if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        return cfg_err(errstr, errstr_len, "%s: '%s' is not a legal topic name", where, v);
    }
    for (size_t i = 0; i < n; i++) {
        if (!topic_char_ok(v[i])) {
            return cfg_err(errstr, errstr_len,
                           "%s: '%s' is not a legal topic name (letters, digits, '.', '_', '-')",
                           where, show(v, shown));
        }
    }
    return 0;
}

static bool host_char_ok(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '.' ||
           ch == '-' || ch == '_';
}

/* A port "1".."65535" (or from 0 when zero_ok), strictly decimal. */
static bool parse_port(const char *s, size_t n, bool zero_ok, uint16_t *out) {
    if (n == 0 || n > 5) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > 65535 || (v == 0 && !zero_ok)) return false;
    *out = (uint16_t)v;
    return true;
}

/* One broker entry "[scheme://]HOST:PORT" or "[scheme://][v6]:PORT". */
static bool broker_entry_ok(const char *e, size_t n) {
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n; i++) {
        if (memcmp(e + i, "://", 3) == 0) {
            sep = e + i;
            break;
        }
    }
    if (sep != NULL) {
        static const char *const schemes[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};
        size_t sn = (size_t)(sep - e);
        bool known = false;
        for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
            known |= strlen(schemes[k]) == sn && strncasecmp(schemes[k], e, sn) == 0;
        }
        if (!known) return false;
        n -= sn + 3;
        e = sep + 3;
    }
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++) {
        if (e[i] == ':') colon = e + i;
    }
    if (colon == NULL || colon == e) return false;
    size_t hn = (size_t)(colon - e);
    uint16_t port;
    if (!parse_port(colon + 1, n - hn - 1, false, &port)) return false;
    if (e[0] == '[') {
        char v6[64];
        if (hn < 3 || e[hn - 1] != ']' || hn - 2 >= sizeof(v6)) return false;
        memcpy(v6, e + 1, hn - 2);
        v6[hn - 2] = '\0';
        struct in6_addr a;
        return inet_pton(AF_INET6, v6, &a) == 1;
    }
    for (size_t i = 0; i < hn; i++) {
        if (!host_char_ok(e[i])) return false;
    }
    return true;
}

/* --- the setters -------------------------------------------------------------- */

typedef int (*cfg_set_fn)(inv_config *c, const char *v, const char *where, char *errstr,
                          size_t errstr_len);
typedef void (*cfg_format_fn)(const inv_config *c, char *buf, size_t len);

typedef enum cfg_kind {
    CFG_U32,    /* uint32_t in [min, max] */
    CFG_I32,    /* int32_t in [min, max] */
    CFG_I64,    /* int64_t in [min, max] */
    CFG_STR,    /* char[size], length in [min, size - 1], no control characters */
    CFG_TOPIC,  /* char[size], a legal Kafka topic name */
    CFG_CUSTOM, /* set and format */
} cfg_kind;

typedef struct cfg_setting {
    const char *name; /* the file name; the flag is "--" name */
    const char *metavar;
    const char *help;
    cfg_kind kind;
    size_t offset;
    size_t size;
    int64_t min, max;
    cfg_set_fn set;
    cfg_format_fn format;
} cfg_setting;

/* Brokers: "" (embedded mock cluster) or a comma-separated list of entries;
 * spaces around entries are dropped. */
static int set_brokers(inv_config *c, const char *v, const char *where, char *errstr,
                       size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    char out[sizeof(c->brokers)];
    size_t on = 0, n = strlen(v);
    for (size_t pos = 0; pos <= n && n > 0;) {
        const char *comma = memchr(v + pos, ',', n - pos);
        size_t end = comma != NULL ? (size_t)(comma - v) : n;
        size_t b = pos, e = end;
        while (b < e && is_space(v[b]))
            b++;
        while (e > b && is_space(v[e - 1]))
            e--;
        if (b == e) return cfg_err(errstr, errstr_len, "%s: empty entry in the broker list", where);
        if (!broker_entry_ok(v + b, e - b)) {
            return cfg_err(errstr, errstr_len,
                           "%s: '%s' is not HOST:PORT (port 1..65535; [IPv6]:PORT)", where,
                           show_n(v + b, e - b, shown));
        }
        if (on + (on > 0) + (e - b) > sizeof(out) - 1) {
            return cfg_err(errstr, errstr_len, "%s: broker list longer than %zu bytes", where,
                           sizeof(out) - 1);
        }
        if (on > 0) out[on++] = ',';
        memcpy(out + on, v + b, e - b);
        on += e - b;
        pos = end + 1;
    }
    memset(c->brokers, 0, sizeof(c->brokers));
    memcpy(c->brokers, out, on);
    return 0;
}

static void format_string_at(const inv_config *c, size_t offset, char *buf, size_t len) {
    snprintf(buf, len, "%s", (const char *)c + offset);
}

static void format_brokers(const inv_config *c, char *buf, size_t len) {
    format_string_at(c, offsetof(inv_config, brokers), buf, len);
}

/* Stores cpus parsed from v; the text is checked by config_parse_cpus. */
static int parse_cpus_at(const char *v, const char *where, int cpus[INV_WORKERS_MAX],
                         uint32_t *count, char *errstr, size_t errstr_len);

static int set_cpus(inv_config *c, const char *v, const char *where, char *errstr,
                    size_t errstr_len) {
    return parse_cpus_at(v, where, c->cpus, &c->cpus_count, errstr, errstr_len);
}

/* Runs of 3 or more ascending CPUs print as "a-b", the rest one by one. */
static void format_cpus(const inv_config *c, char *buf, size_t len) {
    inv_assert(c->cpus_count <= INV_WORKERS_MAX);
    inv_assert(len > 0);
    if (c->cpus_count == 0) {
        snprintf(buf, len, "none");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < c->cpus_count && used < len;) {
        uint32_t j = i;
        while (j + 1 < c->cpus_count && c->cpus[j + 1] == c->cpus[j] + 1)
            j++;
        const char *sep = i == 0 ? "" : ",";
        int w;
        if (j - i >= 2) {
            w = snprintf(buf + used, len - used, "%s%d-%d", sep, c->cpus[i], c->cpus[j]);
            i = j + 1;
        } else {
            w = snprintf(buf + used, len - used, "%s%d", sep, c->cpus[i]);
            i++;
        }
        if (w < 0) break;
        used += (size_t)w;
    }
}

static void http_reset(inv_config *c) {
    memset(c->http_host, 0, sizeof(c->http_host));
    strcpy(c->http_host, "127.0.0.1");
    c->http_port = 8080;
}

/* "off", "ADDR:PORT" with a numeric IPv4 address, or "[IPv6]:PORT"; port
 * 0..65535 (0 = any free port). ":PORT" is refused: listening on every
 * interface must be asked for by name (0.0.0.0 or [::]). */
static int set_http(inv_config *c, const char *v, const char *where, char *errstr,
                    size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    if (strcmp(v, "off") == 0) {
        http_reset(c);
        c->http_enabled = false;
        return 0;
    }
    const char *colon = strrchr(v, ':');
    if (colon == NULL) {
        return cfg_err(errstr, errstr_len,
                       "%s: '%s' has no port (expected ADDR:PORT, [IPv6]:PORT or off)", where,
                       show(v, shown));
    }
    size_t hn = (size_t)(colon - v);
    const char *host = v;
    bool v6 = v[0] == '[';
    if (v6) {
        if (hn < 3 || v[hn - 1] != ']') {
            return cfg_err(errstr, errstr_len, "%s: '%s' is not [IPv6]:PORT", where,
                           show(v, shown));
        }
        host = v + 1;
        hn -= 2;
    }
    if (hn == 0) {
        return cfg_err(errstr, errstr_len,
                       "%s: '%s' has no address (use 0.0.0.0:PORT or [::]:PORT to listen on "
                       "every interface)",
                       where, show(v, shown));
    }
    if (!v6 && memchr(host, ':', hn) != NULL) {
        return cfg_err(errstr, errstr_len, "%s: write an IPv6 address in brackets, e.g. [::1]:8080",
                       where);
    }
    uint16_t port;
    if (!parse_port(colon + 1, strlen(colon + 1), true, &port)) {
        return cfg_err(errstr, errstr_len, "%s: port '%s' is not an integer in 0..65535", where,
                       show(colon + 1, shown));
    }
    char addr[sizeof(c->http_host)];
    unsigned char bin[sizeof(struct in6_addr)];
    if (hn >= sizeof(addr)) return cfg_err(errstr, errstr_len, "%s: address too long", where);
    memcpy(addr, host, hn);
    addr[hn] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1) {
        return cfg_err(errstr, errstr_len, "%s: '%s' is not a numeric %s address", where,
                       show(addr, shown), v6 ? "IPv6" : "IPv4");
    }
    memset(c->http_host, 0, sizeof(c->http_host));
    memcpy(c->http_host, addr, hn);
    c->http_port = port;
    c->http_enabled = true;
    return 0;
}

static void format_http(const inv_config *c, char *buf, size_t len) {
    if (!c->http_enabled) {
        snprintf(buf, len, "off");
    } else if (strchr(c->http_host, ':') != NULL) {
        snprintf(buf, len, "[%s]:%u", c->http_host, (unsigned)c->http_port);
    } else {
        snprintf(buf, len, "%s:%u", c->http_host, (unsigned)c->http_port);
    }
}

static const char *const cfg_log_levels[] = {"error", "warn", "info", "debug"};

const char *config_log_level_name(int level) {
    if (level < 0 || level > 3) return "?";
    return cfg_log_levels[level];
}

static int set_log_level(inv_config *c, const char *v, const char *where, char *errstr,
                         size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, cfg_log_levels[i]) == 0) {
            c->log_level = i;
            return 0;
        }
    }
    return cfg_err(errstr, errstr_len, "%s: '%s' is not one of error, warn, info, debug", where,
                   show(v, shown));
}

static void format_log_level(const inv_config *c, char *buf, size_t len) {
    snprintf(buf, len, "%s", config_log_level_name(c->log_level));
}

/* -1 (min(3, brokers in the cluster)) or 1..32767. */
static int set_replication_factor(inv_config *c, const char *v, const char *where, char *errstr,
                                  size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    int64_t x;
    bool overflow = false;
    if (*v == '\0' || !parse_int(v, &x, &overflow)) {
        return cfg_err(errstr, errstr_len, "%s: '%s' is not an integer (expected -1 or 1..32767)",
                       where, show(v, shown));
    }
    if (overflow || x == 0 || x < -1 || x > INT16_MAX) {
        return cfg_err(errstr, errstr_len,
                       "%s: %s is out of range (-1 = min(3, brokers), or 1..32767)", where,
                       show(v, shown));
    }
    c->replication_factor = (int16_t)x;
    return 0;
}

static void format_replication_factor(const inv_config *c, char *buf, size_t len) {
    snprintf(buf, len, "%d", (int)c->replication_factor);
}

#define CFG_INT(kind_, field, lo, hi)                                                              \
    kind_, offsetof(inv_config, field), sizeof(((inv_config *)0)->field), lo, hi, NULL, NULL
#define CFG_STRING(kind_, field, minlen)                                                           \
    kind_, offsetof(inv_config, field), sizeof(((inv_config *)0)->field), minlen, 0, NULL, NULL
#define CFG_FN(set_, format_) CFG_CUSTOM, 0, 0, 0, 0, set_, format_

static const cfg_setting cfg_settings[] = {
    {"brokers", "HOST:PORT[,..]", "Kafka brokers; \"\" = the embedded mock cluster",
     CFG_FN(set_brokers, format_brokers)},
    {"group", "ID", "consumer group id", CFG_STRING(CFG_STR, group, 1)},
    {"workers", "N", "worker threads, 1..64", CFG_INT(CFG_U32, workers, 1, INV_WORKERS_MAX)},
    {"cpus", "LIST", "CPU per worker: 0,2 or 0-3 or 0-1,4, or none", CFG_FN(set_cpus, format_cpus)},
    {"data-dir", "DIR", "directory of snapshots", CFG_STRING(CFG_STR, data_dir, 1)},
    {"http", "ADDR:PORT", "HTTP API; [IPv6]:PORT too, port 0 = any, or off",
     CFG_FN(set_http, format_http)},
    {"kafka-config", "FILE", "librdkafka properties (security.protocol, sasl.*, ssl.*)",
     CFG_STRING(CFG_STR, kafka_config_path, 0)},
    {"topic-canonical", "TOPIC", "canonical events topic (input)",
     CFG_STRING(CFG_TOPIC, topic_canonical, 1)},
    {"topic-stock-levels", "TOPIC", "stock levels topic (compacted)",
     CFG_STRING(CFG_TOPIC, topic_stock_levels, 1)},
    {"topic-dlq", "TOPIC", "dead-letter topic", CFG_STRING(CFG_TOPIC, topic_dlq, 1)},
    {"partitions", "N", "partitions of topics invsync creates, 1..1024",
     CFG_INT(CFG_I32, partitions, 1, INV_PARTITIONS_MAX)},
    {"replication-factor", "N", "replication of created topics; -1 = min(3, brokers)",
     CFG_FN(set_replication_factor, format_replication_factor)},
    {"flush-interval-ms", "MS", "stock-level flush interval, 1..60000",
     CFG_INT(CFG_U32, flush_interval_ms, 1, INV_FLUSH_INTERVAL_MS_MAX)},
    {"dedup-window-ms", "MS", "eventId dedup window, 1000..2592000000 (30 days)",
     CFG_INT(CFG_I64, dedup_window_ms, INV_DEDUP_WINDOW_MS_MIN, INV_DEDUP_WINDOW_MS_MAX)},
    {"dedup-ids-max", "N", "eventIds remembered per partition, 16..268435456",
     CFG_INT(CFG_U32, dedup_ids_max, INV_DEDUP_IDS_MIN, INV_DEDUP_IDS_MAX)},
    {"embedded-brokers", "N", "brokers of the embedded mock cluster, 1..9",
     CFG_INT(CFG_U32, embedded_brokers, 1, INV_EMBEDDED_BROKERS_MAX)},
    {"log-level", "LEVEL", "error, warn, info or debug", CFG_FN(set_log_level, format_log_level)},
};

#define CFG_SETTINGS_COUNT (sizeof(cfg_settings) / sizeof(cfg_settings[0]))
_Static_assert(CFG_SETTINGS_COUNT <= 32, "the seen-mask of a file is a uint32_t");

static const cfg_setting *setting_find(const char *name, size_t n) {
    for (size_t i = 0; i < CFG_SETTINGS_COUNT; i++) {
        if (strlen(cfg_settings[i].name) == n && memcmp(cfg_settings[i].name, name, n) == 0) {
            return &cfg_settings[i];
        }
    }
    return NULL;
}

/* The closest setting name (edit distance <= 2), or NULL. */
static const char *setting_suggest(const char *name, size_t n) {
    if (n > CFG_SUGGEST_LEN_MAX) return NULL;
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < CFG_SETTINGS_COUNT; i++) {
        const char *s = cfg_settings[i].name;
        size_t d = edit_distance(name, n, s, strlen(s));
        /* On a tie, a name with the same first letter wins. */
        bool better = d < best_d || (d == best_d && best != NULL && n > 0 && s[0] == name[0] &&
                                     best[0] != name[0]);
        if (better) {
            best_d = d;
            best = s;
        }
    }
    return best;
}

static int set_string(const cfg_setting *s, inv_config *c, const char *v, const char *where,
                      char *errstr, size_t errstr_len) {
    char *field = (char *)c + s->offset;
    size_t n = strlen(v);
    inv_assert(s->size > 1);
    if (n < (size_t)s->min) return cfg_err(errstr, errstr_len, "%s: missing value", where);
    if (n >= s->size) {
        return cfg_err(errstr, errstr_len, "%s: value is %zu bytes, longer than %zu", where, n,
                       s->size - 1);
    }
    if (s->kind == CFG_TOPIC) {
        int rc = check_topic(v, where, errstr, errstr_len);
        if (rc != 0) return rc;
    } else if (has_control(v)) {
        return cfg_err(errstr, errstr_len, "%s: value contains a control character", where);
    }
    memset(field, 0, s->size);
    memcpy(field, v, n);
    return 0;
}

/* Parses v into setting s of c; errors start with where. 0 or -EINVAL. */
static int setting_apply(const cfg_setting *s, inv_config *c, const char *v, const char *where,
                         char *errstr, size_t errstr_len) {
    inv_assert(s != NULL);
    inv_assert(v != NULL);
    char *field = (char *)c + s->offset;
    int64_t x = 0;
    int rc;
    switch (s->kind) {
    case CFG_CUSTOM:
        return s->set(c, v, where, errstr, errstr_len);
    case CFG_STR:
    case CFG_TOPIC:
        return set_string(s, c, v, where, errstr, errstr_len);
    case CFG_U32:
    case CFG_I32:
    case CFG_I64:
        rc = parse_int_range(v, s->min, s->max, where, &x, errstr, errstr_len);
        if (rc != 0) return rc;
        if (s->kind == CFG_U32) {
            uint32_t u = (uint32_t)x;
            memcpy(field, &u, sizeof(u));
        } else if (s->kind == CFG_I32) {
            int32_t i = (int32_t)x;
            memcpy(field, &i, sizeof(i));
        } else {
            memcpy(field, &x, sizeof(x));
        }
        return 0;
    }
    inv_unreachable();
}

static int64_t setting_int(const cfg_setting *s, const inv_config *c) {
    const char *field = (const char *)c + s->offset;
    if (s->kind == CFG_U32) {
        uint32_t u;
        memcpy(&u, field, sizeof(u));
        return u;
    }
    if (s->kind == CFG_I32) {
        int32_t i;
        memcpy(&i, field, sizeof(i));
        return i;
    }
    int64_t x;
    memcpy(&x, field, sizeof(x));
    return x;
}

static void setting_format(const cfg_setting *s, const inv_config *c, char *buf, size_t len) {
    inv_assert(len > 0);
    switch (s->kind) {
    case CFG_CUSTOM:
        s->format(c, buf, len);
        return;
    case CFG_STR:
    case CFG_TOPIC:
        format_string_at(c, s->offset, buf, len);
        return;
    case CFG_U32:
    case CFG_I32:
    case CFG_I64:
        snprintf(buf, len, "%lld", (long long)setting_int(s, c));
        return;
    }
    inv_unreachable();
}

/* --- --cpus -------------------------------------------------------------------- */

/* A CPU number: digits only, at most INV_CONFIG_CPU_ID_MAX. -1 if not. */
static int cpu_number(const char *s, size_t n) {
    if (n == 0 || n > 4) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= INV_CONFIG_CPU_ID_MAX ? v : -1;
}

/* Adds CPUs lo..hi of one list item to out. */
static int cpus_add_range(int lo, int hi, const char *where, uint64_t *seen, int *out, uint32_t *n,
                          char *errstr, size_t errstr_len) {
    inv_assert(lo >= 0 && hi <= INV_CONFIG_CPU_ID_MAX);
    inv_assert(lo <= hi);
    for (int cpu = lo; cpu <= hi; cpu++) {
        if (seen[cpu / 64] & (1ULL << (cpu % 64))) {
            return cfg_err(errstr, errstr_len, "%s: CPU %d is given twice", where, cpu);
        }
        if (*n == INV_WORKERS_MAX) {
            return cfg_err(errstr, errstr_len,
                           "%s: more than %d CPUs (one per worker, at most %d workers)", where,
                           INV_WORKERS_MAX, INV_WORKERS_MAX);
        }
        seen[cpu / 64] |= 1ULL << (cpu % 64);
        out[(*n)++] = cpu;
    }
    return 0;
}

/* One item "N" or "N-M" of a --cpus list. */
static int cpus_item(const char *s, size_t n, const char *where, uint64_t *seen, int *out,
                     uint32_t *count, char *errstr, size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    if (n == 0) return cfg_err(errstr, errstr_len, "%s: empty item in the CPU list", where);
    const char *dash = memchr(s, '-', n);
    size_t ln = dash != NULL ? (size_t)(dash - s) : n;
    int lo = cpu_number(s, ln);
    int hi = dash != NULL ? cpu_number(dash + 1, n - ln - 1) : lo;
    if (lo < 0 || hi < 0) {
        return cfg_err(errstr, errstr_len, "%s: '%s' is not a CPU number or range N-M (CPUs 0..%d)",
                       where, show_n(s, n, shown), INV_CONFIG_CPU_ID_MAX);
    }
    if (hi < lo) {
        return cfg_err(errstr, errstr_len, "%s: range '%s' is backwards", where,
                       show_n(s, n, shown));
    }
    return cpus_add_range(lo, hi, where, seen, out, count, errstr, errstr_len);
}

static int parse_cpus_at(const char *v, const char *where, int cpus[INV_WORKERS_MAX],
                         uint32_t *count, char *errstr, size_t errstr_len) {
    inv_assert(v != NULL);
    inv_assert(count != NULL);
    int out[INV_WORKERS_MAX];
    uint64_t seen[(INV_CONFIG_CPU_ID_MAX + 64) / 64] = {0};
    uint32_t n = 0;
    size_t len = strlen(v);
    if (len > 0 && strcmp(v, "none") != 0) {
        for (size_t pos = 0; pos <= len;) {
            const char *comma = memchr(v + pos, ',', len - pos);
            size_t end = comma != NULL ? (size_t)(comma - v) : len;
            int rc = cpus_item(v + pos, end - pos, where, seen, out, &n, errstr, errstr_len);
            if (rc != 0) return rc;
            pos = end + 1;
        }
    }
    for (uint32_t i = 0; i < INV_WORKERS_MAX; i++)
        cpus[i] = i < n ? out[i] : -1;
    *count = n;
    return 0;
}

int config_parse_cpus(const char *text, int cpus[INV_WORKERS_MAX], uint32_t *count, char *errstr,
                      size_t errstr_len) {
    return parse_cpus_at(text, "--cpus", cpus, count, errstr, errstr_len);
}

/* --- defaults, free ------------------------------------------------------------ */

void config_defaults(inv_config *c) {
    inv_assert(c != NULL);
    memset(c, 0, sizeof(*c));
    strcpy(c->group, "inventory-sync");
    c->workers = 1;
    for (uint32_t i = 0; i < INV_WORKERS_MAX; i++)
        c->cpus[i] = -1;
    c->cpus_count = 0;
    strcpy(c->data_dir, "./data");
    http_reset(c);
    c->http_enabled = true;
    strcpy(c->topic_canonical, "inventory.events.canonical");
    strcpy(c->topic_stock_levels, "inventory.stock-levels");
    strcpy(c->topic_dlq, "inventory.events.dlq");
    c->partitions = 12;
    c->replication_factor = -1;
    c->flush_interval_ms = 50;
    c->dedup_window_ms = INV_DEDUP_WINDOW_MS_DEFAULT;
    c->dedup_ids_max = INV_DEDUP_IDS_MAX_DEFAULT;
    c->embedded_brokers = 1;
    c->log_level = 2;
    c->kafka_props_count = 0;
}

void config_free(inv_config *c) {
    inv_assert(c != NULL);
    inv_assert(c->kafka_props_count <= INV_KAFKA_PROPS_MAX);
    for (uint32_t i = 0; i < c->kafka_props_count; i++) {
        inv_kafka_prop *p = &c->kafka_props[i];
        free(p->name);
        free(p->value);
        free(p->origin);
        p->name = p->value = p->origin = NULL;
    }
    c->kafka_props_count = 0;
}

/* --- the config file ------------------------------------------------------------ */

/* The value part of a line (after '=' and spaces) into out. NULL, or why it
 * is malformed. */
static const char *config_value(const char *p, size_t n, char *out, size_t out_max,
                                size_t *out_len) {
    inv_assert(out_max > 0);
    size_t o = 0;
    if (n > 0 && p[0] == '"') {
        size_t i = 1;
        for (; i < n && p[i] != '"'; i++) {
            char ch = p[i];
            if (ch == '\\') {
                if (i + 1 >= n || (p[i + 1] != '"' && p[i + 1] != '\\')) {
                    return "unknown escape in quotes (only \\\" and \\\\)";
                }
                ch = p[++i];
            }
            if (o + 1 >= out_max) return "value too long";
            out[o++] = ch;
        }
        if (i >= n) return "unterminated quote";
        for (i++; i < n && is_space(p[i]); i++) {
        }
        if (i < n && p[i] != '#') return "text after the closing quote";
    } else {
        size_t end = n;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '#' && (i == 0 || is_space(p[i - 1]))) {
                end = i;
                break;
            }
        }
        while (end > 0 && is_space(p[end - 1]))
            end--;
        if (end >= out_max) return "value too long";
        memcpy(out, p, end);
        o = end;
    }
    out[o] = '\0';
    *out_len = o;
    return NULL;
}

/* An unknown setting: names the closest known one, or says where librdkafka
 * properties belong. */
static int unknown_setting(const char *prefix, const char *name, size_t n, char *errstr,
                           size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    const char *near = setting_suggest(name, n);
    if (near != NULL) {
        return cfg_err(errstr, errstr_len, "%sunknown setting '%s' (did you mean '%s'?)", prefix,
                       show_n(name, n, shown), near);
    }
    if (memchr(name, '.', n) != NULL) {
        return cfg_err(errstr, errstr_len,
                       "%sunknown setting '%s' (librdkafka properties go in the kafka-config "
                       "file)",
                       prefix, show_n(name, n, shown));
    }
    return cfg_err(errstr, errstr_len, "%sunknown setting '%s'", prefix, show_n(name, n, shown));
}

typedef struct cfg_file_state {
    const char *origin;
    unsigned long line;
    uint32_t seen; /* settings set in this file, a bit each */
    unsigned long seen_line[CFG_SETTINGS_COUNT];
} cfg_file_state;

/* One line of a config file (without its '\n'). */
static int config_line(inv_config *c, const char *p, size_t n, cfg_file_state *st, char *errstr,
                       size_t errstr_len) {
    char prefix[CFG_WHERE_MAX];
    snprintf(prefix, sizeof(prefix), "%s:%lu: ", st->origin, st->line);
    if (memchr(p, '\0', n) != NULL) return cfg_err(errstr, errstr_len, "%sNUL byte", prefix);
    while (n > 0 && is_space(*p))
        p++, n--;
    while (n > 0 && is_space(p[n - 1]))
        n--;
    if (n == 0 || p[0] == '#') return 0;

    size_t name_n = 0;
    while (name_n < n && p[name_n] != '=' && !is_space(p[name_n]))
        name_n++;
    size_t i = name_n;
    while (i < n && is_space(p[i]))
        i++;
    if (name_n == 0 || i >= n || p[i] != '=') {
        return cfg_err(errstr, errstr_len, "%sexpected 'name = value'", prefix);
    }
    const cfg_setting *s = setting_find(p, name_n);
    if (s == NULL) return unknown_setting(prefix, p, name_n, errstr, errstr_len);
    size_t idx = (size_t)(s - cfg_settings);
    if (st->seen & (1u << idx)) {
        return cfg_err(errstr, errstr_len, "%s%s: already set on line %lu", prefix, s->name,
                       st->seen_line[idx]);
    }
    st->seen |= 1u << idx;
    st->seen_line[idx] = st->line;

    for (i++; i < n && is_space(p[i]); i++) {
    }
    char value[CFG_VALUE_MAX];
    size_t value_n;
    const char *why = config_value(p + i, n - i, value, sizeof(value), &value_n);
    if (why != NULL) return cfg_err(errstr, errstr_len, "%s%s: %s", prefix, s->name, why);
    char where[CFG_WHERE_MAX];
    snprintf(where, sizeof(where), "%s%s", prefix, s->name);
    return setting_apply(s, c, value, where, errstr, errstr_len);
}

int config_parse_text(inv_config *c, const char *text, size_t len, const char *origin, char *errstr,
                      size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(text != NULL || len == 0);
    inv_assert(origin != NULL);
    inv_assert(errstr != NULL || errstr_len == 0);
    cfg_file_state st;
    memset(&st, 0, sizeof(st));
    st.origin = origin;
    for (size_t pos = 0; pos < len;) {
        st.line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        int rc = config_line(c, text + pos, n, &st, errstr, errstr_len);
        if (rc != 0) return rc;
        pos += n + 1;
    }
    return 0;
}

/* --- librdkafka properties ------------------------------------------------------- */

typedef struct cfg_owned {
    const char *name;
    const char *instead;
} cfg_owned;

static const cfg_owned cfg_owned_props[] = {
    {"bootstrap.servers", "use --brokers"},
    {"metadata.broker.list", "use --brokers"},
    {"group.id", "use --group"},
    {"enable.auto.commit", "exactly-once depends on it: offsets are stored after a flush is acked"},
    {"auto.commit.enable", "exactly-once depends on it: offsets are stored after a flush is acked"},
    {"enable.auto.offset.store",
     "exactly-once depends on it: offsets are stored after a flush is acked"},
    {"enable.idempotence", "exactly-once depends on it"},
    {"delivery.report.only.error",
     "exactly-once depends on it: acknowledgements are learned from the producer's queue"},
    {"partitioner", "exactly-once depends on it: murmur2_random, as Java producers use"},
};

static bool prop_name_ok(const char *s, size_t n) {
    if (n == 0 || n > INV_KAFKA_PROP_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        if (!topic_char_ok(s[i])) return false;
    }
    return true;
}

/* Appends name=value (name already checked by prop_name_ok) with origin. */
static int prop_add(inv_config *c, const char *name, size_t name_n, const char *value,
                    size_t value_n, const char *origin, char *errstr, size_t errstr_len) {
    inv_assert(prop_name_ok(name, name_n));
    inv_assert(c->kafka_props_count <= INV_KAFKA_PROPS_MAX);
    for (size_t i = 0; i < sizeof(cfg_owned_props) / sizeof(cfg_owned_props[0]); i++) {
        const cfg_owned *o = &cfg_owned_props[i];
        if (strlen(o->name) == name_n && strncasecmp(o->name, name, name_n) == 0) {
            return cfg_err(errstr, errstr_len, "%s: '%.*s' is set by invsync; %s", origin,
                           (int)name_n, name, o->instead);
        }
    }
    if (c->kafka_props_count == INV_KAFKA_PROPS_MAX) {
        return cfg_err(errstr, errstr_len, "%s: more than %d librdkafka properties", origin,
                       INV_KAFKA_PROPS_MAX);
    }
    inv_kafka_prop p = {cfg_strndup(name, name_n), cfg_strndup(value, value_n),
                        cfg_strndup(origin, strlen(origin))};
    if (p.name == NULL || p.value == NULL || p.origin == NULL) {
        free(p.name);
        free(p.value);
        free(p.origin);
        return cfg_fail(-ENOMEM, errstr, errstr_len, "%s: out of memory", origin);
    }
    c->kafka_props[c->kafka_props_count++] = p; /* ownership moves to c */
    return 0;
}

static int hex_value(char ch) {
    if (is_digit(ch)) return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Four hex digits at s (n bytes available); -1 if malformed. */
static long hex4(const char *s, size_t n) {
    if (n < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(s[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_put(char *out, unsigned long cp) {
    inv_assert(cp > 0 && cp <= 0x10FFFF);
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a \uXXXX escape (or a surrogate pair) at s[0] == 'u'; sets *used
 * to the bytes consumed after the backslash. 0 or -1. */
static int unicode_escape(const char *s, size_t n, size_t *used, unsigned long *cp) {
    long hi = hex4(s + 1, n - 1);
    if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) return -1;
    *used = 5;
    *cp = (unsigned long)hi;
    if (hi < 0xD800 || hi > 0xDBFF) return 0;
    if (n < 11 || s[5] != '\\' || s[6] != 'u') return -1;
    long lo = hex4(s + 7, n - 7);
    if (lo < 0xDC00 || lo > 0xDFFF) return -1;
    *used = 11;
    *cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
    return 0;
}

/* Java's escapes, in place: never grows (\uXXXX is 6 bytes for at most 3,
 * a pair 12 for 4). Returns the new length, or -1 for a malformed \u or NUL. */
static long java_unescape(char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            s[o++] = s[i++];
            continue;
        }
        if (i + 1 >= n) break; /* a lone final backslash (continuation at EOF) */
        char e = s[i + 1];
        if (e == 'u') {
            size_t used;
            unsigned long cp;
            if (unicode_escape(s + i + 1, n - i - 1, &used, &cp) != 0) return -1;
            o += utf8_put(s + o, cp);
            i += 1 + used;
            continue;
        }
        s[o++] = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'f' ? '\f' : e;
        i += 2;
    }
    return (long)o;
}

/* One logical property line (continuations joined) in buf. */
static int prop_line(inv_config *c, char *buf, size_t n, const char *where, char *errstr,
                     size_t errstr_len) {
    size_t sep = 0;
    while (sep < n && buf[sep] != '=' && buf[sep] != ':')
        sep++;
    if (sep == n) {
        return cfg_err(errstr, errstr_len, "%s: expected name=value or name: value", where);
    }
    size_t name_n = sep;
    while (name_n > 0 &&
           (buf[name_n - 1] == ' ' || buf[name_n - 1] == '\t' || buf[name_n - 1] == '\f')) {
        name_n--;
    }
    if (!prop_name_ok(buf, name_n)) {
        /* Not echoed: a malformed name may be part of a secret. */
        return cfg_err(errstr, errstr_len,
                       "%s: not a property name (1..%d of letters, digits, '.', '_', '-')", where,
                       INV_KAFKA_PROP_NAME_MAX);
    }
    size_t v = sep + 1;
    while (v < n && (buf[v] == ' ' || buf[v] == '\t' || buf[v] == '\f'))
        v++;
    long value_n = java_unescape(buf + v, n - v);
    if (value_n < 0) {
        return cfg_err(errstr, errstr_len, "%s: %.*s: malformed \\u escape or NUL in the value",
                       where, (int)name_n, buf);
    }
    return prop_add(c, buf, name_n, buf + v, (size_t)value_n, where, errstr, errstr_len);
}

/* The natural line at *pos: its bytes (without "\n" or "\r\n") in *line and
 * *n; advances *pos and *lineno. */
static void natural_line(const char *text, size_t len, size_t *pos, unsigned long *lineno,
                         const char **line, size_t *n) {
    inv_assert(*pos < len);
    const char *p = text + *pos;
    const char *nl = memchr(p, '\n', len - *pos);
    size_t k = nl != NULL ? (size_t)(nl - p) : len - *pos;
    *pos += k + (nl != NULL);
    (*lineno)++;
    if (k > 0 && p[k - 1] == '\r') k--;
    *line = p;
    *n = k;
}

static bool odd_backslashes_at_end(const char *s, size_t n) {
    size_t k = 0;
    while (k < n && s[n - 1 - k] == '\\')
        k++;
    return k % 2 == 1;
}

static void skip_java_space(const char **s, size_t *n) {
    while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '\f'))
        (*s)++, (*n)--;
}

/* Joins the logical line starting with natural line (line, n) into buf,
 * reading continuation lines. -1 on a NUL byte. */
static long logical_line(const char *text, size_t len, size_t *pos, unsigned long *lineno,
                         const char *line, size_t n, char *buf) {
    size_t o = 0;
    for (;;) {
        if (memchr(line, '\0', n) != NULL) return -1;
        bool more = odd_backslashes_at_end(line, n);
        size_t k = more ? n - 1 : n;
        memcpy(buf + o, line, k);
        o += k;
        if (!more || *pos >= len) break;
        natural_line(text, len, pos, lineno, &line, &n);
        skip_java_space(&line, &n);
    }
    return (long)o;
}

int config_parse_kafka_properties(inv_config *c, const char *text, size_t len, const char *origin,
                                  char *errstr, size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(text != NULL || len == 0);
    inv_assert(origin != NULL);
    if (len == 0) return 0;
    char *buf = cfg_malloc(len); /* a logical line is never longer than the text */
    if (buf == NULL) return cfg_fail(-ENOMEM, errstr, errstr_len, "%s: out of memory", origin);
    int rc = 0;
    unsigned long lineno = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *line;
        size_t n;
        natural_line(text, len, &pos, &lineno, &line, &n);
        char where[CFG_WHERE_MAX];
        snprintf(where, sizeof(where), "%s:%lu", origin, lineno);
        skip_java_space(&line, &n);
        if (n == 0 || line[0] == '#' || line[0] == '!') {
            if (memchr(line, '\0', n) != NULL)
                rc = cfg_err(errstr, errstr_len, "%s: NUL byte", where);
            continue;
        }
        long k = logical_line(text, len, &pos, &lineno, line, n, buf);
        rc = k < 0 ? cfg_err(errstr, errstr_len, "%s: NUL byte", where)
                   : prop_line(c, buf, (size_t)k, where, errstr, errstr_len);
    }
    free(buf);
    return rc;
}

int config_add_kafka_prop(inv_config *c, const char *arg, char *errstr, size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(arg != NULL);
    const char *eq = strchr(arg, '=');
    if (eq == NULL) return cfg_err(errstr, errstr_len, "-X: expected NAME=VALUE");
    size_t name_n = (size_t)(eq - arg);
    if (!prop_name_ok(arg, name_n)) {
        return cfg_err(errstr, errstr_len,
                       "-X: not a property name (1..%d of letters, digits, '.', '_', '-')",
                       INV_KAFKA_PROP_NAME_MAX);
    }
    return prop_add(c, arg, name_n, eq + 1, strlen(eq + 1), "-X", errstr, errstr_len);
}

/* --- secrets, apply, validate ----------------------------------------------------- */

static bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = hay; *p != '\0'; p++) {
        if (strncasecmp(p, needle, n) == 0) return true;
    }
    return false;
}

bool config_is_secret(const char *name) {
    static const char *const needles[] = {
        "password",
        "passwd",
        "secret",
        "token",
        "credential",
        "jaas",
        "private",
        "apikey",
        "api.key",
        "api_key",
        ".pem",
        "_pem",
        "ssl_key",
        "sasl.oauthbearer.config",
        "sasl.oauthbearer.extensions",
    };
    inv_assert(name != NULL);
    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
        if (contains_ci(name, needles[i])) return true;
    }
    return false;
}

/* True when msg quotes value, or the start of it (librdkafka may cut a long
 * value): then a secret's message is not shown at all. */
static bool message_quotes(const char *msg, const char *value) {
    size_t n = strlen(value);
    if (n == 0) return false;
    if (n > 8) n = 8;
    for (const char *p = msg; *p != '\0'; p++) {
        if (strncmp(p, value, n) == 0) return true;
    }
    return false;
}

int config_kafka_apply(const inv_config *c, rd_kafka_conf_t *conf, char *errstr,
                       size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(conf != NULL);
    inv_assert(c->kafka_props_count <= INV_KAFKA_PROPS_MAX);
    for (uint32_t i = 0; i < c->kafka_props_count; i++) {
        const inv_kafka_prop *p = &c->kafka_props[i];
        char msg[512];
        msg[0] = '\0';
        rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, p->name, p->value, msg, sizeof(msg));
        if (r == RD_KAFKA_CONF_OK) continue;
        if (config_is_secret(p->name) && message_quotes(msg, p->value)) {
            snprintf(msg, sizeof(msg), "invalid value (not shown: the property is secret)");
        }
        return cfg_err(errstr, errstr_len, "%s: kafka property '%s': %s",
                       p->origin != NULL ? p->origin : "kafka", p->name, msg);
    }
    return 0;
}

int config_kafka_validate(const inv_config *c, char *errstr, size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(errstr != NULL || errstr_len == 0);
    if (c->kafka_props_count == 0) return 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf == NULL) return cfg_fail(-ENOMEM, errstr, errstr_len, "kafka: out of memory");
    int rc = config_kafka_apply(c, conf, errstr, errstr_len);
    rd_kafka_conf_destroy(conf);
    return rc;
}

/* --- cross-checks -------------------------------------------------------------------- */

/* True when a and b name the same topic or collide ('.' and '_' alike). */
static bool topics_collide(const char *a, const char *b) {
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;
        if (x != y) return false;
    }
    return *a == *b;
}

static int check_topics_distinct(const inv_config *c, char *errstr, size_t errstr_len) {
    const char *names[3] = {"--topic-canonical", "--topic-stock-levels", "--topic-dlq"};
    const char *topics[3] = {c->topic_canonical, c->topic_stock_levels, c->topic_dlq};
    for (int i = 0; i < 3; i++) {
        int rc = check_topic(topics[i], names[i], errstr, errstr_len);
        if (rc != 0) return rc;
        for (int j = 0; j < i; j++) {
            if (strcmp(topics[i], topics[j]) == 0) {
                return cfg_err(errstr, errstr_len, "%s: '%s' is also %s", names[i], topics[i],
                               names[j]);
            }
            if (topics_collide(topics[i], topics[j])) {
                return cfg_err(errstr, errstr_len,
                               "%s: '%s' collides with %s '%s' (Kafka treats '.' and '_' alike)",
                               names[i], topics[i], names[j], topics[j]);
            }
        }
    }
    return 0;
}

int config_validate(const inv_config *c, char *errstr, size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(errstr != NULL || errstr_len == 0);
    for (size_t i = 0; i < CFG_SETTINGS_COUNT; i++) {
        const cfg_setting *s = &cfg_settings[i];
        if (s->kind != CFG_U32 && s->kind != CFG_I32 && s->kind != CFG_I64) continue;
        int64_t v = setting_int(s, c);
        if (v < s->min || v > s->max) {
            return cfg_err(errstr, errstr_len, "--%s: %lld is out of range %lld..%lld", s->name,
                           (long long)v, (long long)s->min, (long long)s->max);
        }
    }
    if (c->cpus_count > INV_WORKERS_MAX || (c->cpus_count != 0 && c->cpus_count != c->workers)) {
        return cfg_err(errstr, errstr_len,
                       "--cpus: %u CPUs given for %u workers (give one per worker)", c->cpus_count,
                       c->workers);
    }
    if (c->replication_factor == 0 || c->replication_factor < -1) {
        return cfg_err(errstr, errstr_len, "--replication-factor: %d is out of range",
                       (int)c->replication_factor);
    }
    if (c->brokers[0] == '\0' && c->replication_factor > (int)c->embedded_brokers) {
        return cfg_err(errstr, errstr_len,
                       "--replication-factor: %d is more than the %u brokers of the embedded "
                       "cluster (--embedded-brokers)",
                       (int)c->replication_factor, c->embedded_brokers);
    }
    return check_topics_distinct(c, errstr, errstr_len);
}

/* --- dump and usage ---------------------------------------------------------------- */

static bool needs_quotes(const char *v) {
    size_t n = strlen(v);
    return n == 0 || is_space(v[0]) || is_space(v[n - 1]) || v[0] == '"' || strchr(v, '#') != NULL;
}

/* v in the file syntax: quoted when needed (\" and \\ escaped inside);
 * control characters, which no setting accepts, print as '?'. */
static void write_value(FILE *out, const char *v) {
    bool q = needs_quotes(v);
    if (q) fputc('"', out);
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (q && (ch == '"' || ch == '\\')) fputc('\\', out);
        fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, out);
    }
    if (q) fputc('"', out);
}

/* A property value on a comment line: control characters escaped. */
static void write_escaped(FILE *out, const char *v) {
    for (const char *p = v; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '\n') {
            fputs("\\n", out);
        } else if (ch == '\\') {
            fputs("\\\\", out);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(out, "\\u%04X", ch);
        } else {
            fputc(ch, out);
        }
    }
}

void config_dump(const inv_config *c, FILE *out) {
    inv_assert(c != NULL);
    inv_assert(out != NULL);
    char buf[CFG_FORMAT_MAX];
    for (size_t i = 0; i < CFG_SETTINGS_COUNT; i++) {
        setting_format(&cfg_settings[i], c, buf, sizeof(buf));
        fprintf(out, "%s = ", cfg_settings[i].name);
        write_value(out, buf);
        fputc('\n', out);
    }
    if (c->kafka_props_count > 0) {
        fputs("# librdkafka properties (kafka-config, then -X), in the order applied:\n", out);
    }
    for (uint32_t i = 0; i < c->kafka_props_count; i++) {
        const inv_kafka_prop *p = &c->kafka_props[i];
        fprintf(out, "# kafka: %s = ", p->name);
        if (config_is_secret(p->name)) {
            fputs("[redacted]", out);
        } else {
            write_escaped(out, p->value);
        }
        fputc('\n', out);
    }
}

static void usage_line(FILE *out, const char *flag, const char *help, const char *def) {
    fprintf(out, "  %-27s %s", flag, help);
    if (def != NULL) {
        fputs(" (default: ", out);
        write_value(out, def);
        fputc(')', out);
    }
    fputc('\n', out);
}

void config_usage(FILE *out) {
    inv_assert(out != NULL);
    inv_config d;
    config_defaults(&d);
    char buf[CFG_FORMAT_MAX], flag[96];
    fputs("Usage: invsyncd [OPTION]...\n"
          "Keeps one queryable stock level per SKU and location from inventory events on "
          "Kafka.\n\n",
          out);
    usage_line(out, "--config FILE", "settings file, \"name = value\" lines; flags override it",
               NULL);
    for (size_t i = 0; i < CFG_SETTINGS_COUNT; i++) {
        const cfg_setting *s = &cfg_settings[i];
        setting_format(s, &d, buf, sizeof(buf));
        snprintf(flag, sizeof(flag), "--%s %s", s->name, s->metavar);
        usage_line(out, flag, s->help, buf);
    }
    usage_line(out, "-X NAME=VALUE",
               "librdkafka property, after the kafka-config file's "
               "(repeatable)",
               NULL);
    usage_line(out, "-h, --help", "print this help and exit", NULL);
    usage_line(out, "--version", "print the version and exit", NULL);
    fputs("\nFlags take \"--name value\" or \"--name=value\". Put secrets (sasl.password, "
          "ssl.key.password) in the\n--kafka-config file: -X values are visible in the process "
          "list.\n",
          out);
}

/* --- files and argv ------------------------------------------------------------------ */

/* Reads fd to its end into *out (malloc; the caller frees): at most
 * INV_CONFIG_FILE_BYTES_MAX bytes. 0, -errno, -ENOMEM or -EFBIG. */
static int read_all(int fd, char **out, size_t *out_len) {
    inv_assert(fd >= 0);
    inv_assert(out != NULL);
    size_t cap = 4096, n = 0;
    char *buf = cfg_malloc(cap);
    if (buf == NULL) return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > INV_CONFIG_FILE_BYTES_MAX) break; /* one byte over the limit was read */
            size_t next =
                cap * 2 > INV_CONFIG_FILE_BYTES_MAX + 1 ? INV_CONFIG_FILE_BYTES_MAX + 1 : cap * 2;
            char *grown = cfg_realloc(buf, next);
            if (grown == NULL) {
                free(buf);
                return -ENOMEM;
            }
            buf = grown;
            cap = next;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > INV_CONFIG_FILE_BYTES_MAX) {
        free(buf);
        return -EFBIG;
    }
    *out = buf; /* ownership moves to the caller */
    *out_len = n;
    return 0;
}

/* Reads path whole into *out (malloc; the caller frees). what names the
 * flag in errors. 0 or -errno (-ENOENT, -EACCES, -EISDIR, -EFBIG, -ENOMEM). */
static int read_file(const char *path, const char *what, char **out, size_t *out_len, char *errstr,
                     size_t errstr_len) {
    inv_assert(path != NULL);
    inv_assert(what != NULL);
    char shown[CFG_SHOW_MAX + 4];
    struct stat st;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = -errno;
    } else if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
    } else {
        rc = read_all(fd, out, out_len);
    }
    if (fd >= 0) close(fd);
    if (rc == -EFBIG) {
        return cfg_fail(rc, errstr, errstr_len, "%s: '%s' is larger than %u bytes", what,
                        show(path, shown), INV_CONFIG_FILE_BYTES_MAX);
    }
    if (rc != 0) {
        return cfg_fail(rc, errstr, errstr_len, "%s: cannot read '%s': %s", what, show(path, shown),
                        strerror(-rc));
    }
    return 0;
}

/* Reads a file and parses it with parse. */
static int parse_file(inv_config *c, const char *path, const char *what,
                      int (*parse)(inv_config *, const char *, size_t, const char *, char *,
                                   size_t),
                      char *errstr, size_t errstr_len) {
    char *text = NULL;
    size_t n = 0;
    int rc = read_file(path, what, &text, &n, errstr, errstr_len);
    if (rc != 0) return rc;
    rc = parse(c, text, n, path, errstr, errstr_len);
    free(text);
    return rc;
}

typedef enum cfg_arg_kind { ARG_SETTING, ARG_CONFIG, ARG_X, ARG_HELP, ARG_VERSION } cfg_arg_kind;

typedef struct cfg_arg {
    cfg_arg_kind kind;
    const cfg_setting *setting; /* ARG_SETTING */
    const char *value;          /* ARG_SETTING, ARG_CONFIG, ARG_X */
} cfg_arg;

/* An option "-x..." that is not -X or -h: named up to any '=' (never its value). */
static int unknown_option(const char *a, char *errstr, size_t errstr_len) {
    char shown[CFG_SHOW_MAX + 4];
    const char *eq = strchr(a, '=');
    size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);
    const char *near = NULL;
    if (n > 2 && a[1] == '-') {
        near = setting_suggest(a + 2, n - 2);
    } else if (n > 1) {
        near = setting_find(a + 1, n - 1) != NULL ? a + 1 : NULL;
    }
    if (near != NULL) {
        return cfg_err(errstr, errstr_len, "unknown option '%s' (did you mean '--%.*s'?)",
                       show_n(a, n, shown), near == a + 1 ? (int)(n - 1) : (int)strlen(near), near);
    }
    return cfg_err(errstr, errstr_len, "unknown option '%s'", show_n(a, n, shown));
}

/* A long option "--name[=value]" at argv[*i]. */
static int long_option(int argc, char **argv, int *i, cfg_arg *out, char *errstr,
                       size_t errstr_len) {
    const char *a = argv[*i];
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);
    bool flag_only =
        (n == 4 && memcmp(name, "help", 4) == 0) || (n == 7 && memcmp(name, "version", 7) == 0);
    if (flag_only) {
        if (eq != NULL) return cfg_err(errstr, errstr_len, "--%.*s takes no value", (int)n, name);
        out->kind = name[0] == 'h' ? ARG_HELP : ARG_VERSION;
        return 0;
    }
    bool config = n == 6 && memcmp(name, "config", 6) == 0;
    out->setting = config ? NULL : setting_find(name, n);
    if (!config && out->setting == NULL) return unknown_option(a, errstr, errstr_len);
    out->kind = config ? ARG_CONFIG : ARG_SETTING;
    if (eq != NULL) {
        out->value = eq + 1;
    } else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
        out->value = argv[++*i];
    } else {
        return cfg_err(errstr, errstr_len, "--%.*s: missing value", (int)n, name);
    }
    return 0;
}

/* Reads the argument at argv[*i] (and its value) into out; *i is left on
 * the last argv entry used. 0 or -EINVAL. */
static int arg_next(int argc, char **argv, int *i, cfg_arg *out, char *errstr, size_t errstr_len) {
    inv_assert(*i >= 1 && *i < argc);
    inv_assert(argv[*i] != NULL);
    const char *a = argv[*i];
    memset(out, 0, sizeof(*out));
    if (strncmp(a, "--", 2) == 0 && a[2] != '\0')
        return long_option(argc, argv, i, out, errstr, errstr_len);
    if (strcmp(a, "-h") == 0) {
        out->kind = ARG_HELP;
        return 0;
    }
    if (strncmp(a, "-X", 2) == 0) {
        out->kind = ARG_X;
        if (a[2] != '\0') {
            out->value = a + 2;
        } else if (*i + 1 < argc) {
            out->value = argv[++*i];
        } else {
            return cfg_err(errstr, errstr_len, "-X: missing NAME=VALUE");
        }
        return 0;
    }
    if (a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0) {
        return unknown_option(a, errstr, errstr_len);
    }
    /* Never echoed: it may be a secret meant for -X. */
    return cfg_err(errstr, errstr_len,
                   "unexpected argument %d (invsyncd takes no positional arguments; options "
                   "start with --)",
                   *i);
}

/* Pass 1 over argv: finds --help/--version (they win over any error),
 * --config, and the first malformed argument. 0, 1 (help or version
 * printed) or -EINVAL. */
static int args_scan(int argc, char **argv, const char **config_path, char *errstr,
                     size_t errstr_len) {
    char ignored[8];
    int err = 0;
    for (int i = 1; i < argc; i++) {
        cfg_arg a;
        int rc = err == 0 ? arg_next(argc, argv, &i, &a, errstr, errstr_len)
                          : arg_next(argc, argv, &i, &a, ignored, sizeof(ignored));
        if (rc != 0) {
            if (err == 0) err = rc;
            continue;
        }
        if (a.kind == ARG_HELP || a.kind == ARG_VERSION) {
            if (a.kind == ARG_HELP) {
                config_usage(stdout);
            } else {
                fputs("invsyncd " INV_VERSION "\n", stdout);
            }
            fflush(stdout);
            if (errstr_len > 0) errstr[0] = '\0';
            return 1;
        }
        if (a.kind == ARG_CONFIG && err == 0) {
            if (*config_path != NULL) err = cfg_err(errstr, errstr_len, "--config: given twice");
            if (a.value[0] == '\0') err = cfg_err(errstr, errstr_len, "--config: missing value");
            *config_path = a.value;
        }
    }
    return err;
}

/* Pass 2 (settings) or 3 (-X) over argv, already checked by args_scan. */
static int args_apply(inv_config *c, int argc, char **argv, cfg_arg_kind kind, char *errstr,
                      size_t errstr_len) {
    for (int i = 1; i < argc; i++) {
        cfg_arg a;
        int rc = arg_next(argc, argv, &i, &a, errstr, errstr_len);
        inv_assert(rc == 0);
        if (a.kind != kind) continue;
        if (kind == ARG_X) {
            rc = config_add_kafka_prop(c, a.value, errstr, errstr_len);
        } else {
            char where[64];
            snprintf(where, sizeof(where), "--%s", a.setting->name);
            rc = setting_apply(a.setting, c, a.value, where, errstr, errstr_len);
        }
        if (rc != 0) return rc;
    }
    return 0;
}

int config_parse(inv_config *c, int argc, char **argv, char *errstr, size_t errstr_len) {
    inv_assert(c != NULL);
    inv_assert(argc >= 0 && (argv != NULL || argc == 0));
    inv_assert(errstr != NULL || errstr_len == 0);
    config_defaults(c);
    if (errstr_len > 0) errstr[0] = '\0';
    const char *config_path = NULL;
    int rc = args_scan(argc, argv, &config_path, errstr, errstr_len);
    if (rc != 0) return rc;
    if (config_path != NULL) {
        rc = parse_file(c, config_path, "--config", config_parse_text, errstr, errstr_len);
    }
    if (rc == 0) rc = args_apply(c, argc, argv, ARG_SETTING, errstr, errstr_len);
    if (rc == 0 && c->kafka_config_path[0] != '\0') {
        rc = parse_file(c, c->kafka_config_path, "--kafka-config", config_parse_kafka_properties,
                        errstr, errstr_len);
    }
    if (rc == 0) rc = args_apply(c, argc, argv, ARG_X, errstr, errstr_len);
    if (rc == 0) rc = config_validate(c, errstr, errstr_len);
    if (rc == 0) rc = config_kafka_validate(c, errstr, errstr_len);
    if (rc != 0) config_free(c);
    return rc;
}
