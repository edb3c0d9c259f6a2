/* fuzz_config.c - libFuzzer target for the configuration parsers (io/config.c).
 *
 * The first byte picks what the rest of the input is fed to; the second
 * picks the size of the error buffer (0..255 bytes, allocated exactly, so
 * ASan sees any write past it) and, for properties, an allocation to fail.
 *
 *   0: config_parse_text. On success the settings pass config_validate's
 *      range checks or fail only a cross-check, and config_dump parses back
 *      to byte-equal settings that dump identically (the dump is a config
 *      file).
 *   1: config_parse_kafka_properties, with a secret canary property appended
 *      ("sasl.password=CANARY"). Every property name is [A-Za-z0-9._-] and
 *      not owned by invsync; the canary never appears in config_dump output
 *      or in an error string (from parsing or config_kafka_validate) unless
 *      the input itself contains it. Allocation failures are injected.
 *   2: config_parse_cpus, against an independent reference parser: same
 *      verdict, same CPUs in the same order.
 *   3: config_parse over argv split at NUL bytes (at most 24 arguments).
 *      Inputs naming a file (anything with "config") or a librdkafka plugin
 *      ("plugin": it would dlopen a path) are skipped. Returns 0, 1, or
 *      -EINVAL/-ENOMEM with no props left; on 0, config_validate passes and
 *      the dump round-trips.
 *
 * In every mode a failure leaves a non-empty error buffer NUL-terminated
 * inside its size (config_parse does so on success too).
 * stdout (usage and version text) goes to /dev/null.
 *
 * Build: make build-fuzz/fuzz_config (clang, -fsanitize=fuzzer,address,undefined). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "inv_limits.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ARGS_MAX 24
#define FUZZ_CANARY   "Zq8canaryK3vW9xP"

static inv_config cfg_a, cfg_b; /* large: kept off the stack */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (freopen("/dev/null", "w", stdout) == NULL) abort();
    return 0;
}

static void check_errstr(const char *errstr, size_t len) {
    if (len > 0) FUZZ_CHECK(strnlen(errstr, len) < len);
}

static bool contains(const char *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) return true;
    }
    return false;
}

/* config_dump into a malloc'd string. */
static char *dump_of(const inv_config *c, size_t *n) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, n);
    FUZZ_CHECK(f != NULL);
    config_dump(c, f);
    FUZZ_CHECK(fclose(f) == 0);
    return buf;
}

/* c's dump parses back to the same settings and dumps the same (the kafka
 * props, comment lines in a dump, are left out of the comparison). */
static void check_round_trip(const inv_config *c) {
    static inv_config settings;
    char err[512];
    size_t n1 = 0, n2 = 0;
    config_defaults(&settings);
    memcpy(&settings, c, offsetof(inv_config, kafka_props));
    char *d1 = dump_of(&settings, &n1);
    config_defaults(&cfg_b);
    int rc = config_parse_text(&cfg_b, d1, n1, "dump", err, sizeof(err));
    if (rc != 0) fprintf(stderr, "dump does not parse: %s\n%s", err, d1);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(memcmp(c, &cfg_b, offsetof(inv_config, kafka_props)) == 0);
    char *d2 = dump_of(&cfg_b, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(d1, d2, n1) == 0);
    free(d1);
    free(d2);
}

static void fuzz_text(const char *text, size_t n, char *err, size_t err_len) {
    config_defaults(&cfg_a);
    int rc = config_parse_text(&cfg_a, text, n, "fuzz.conf", err, err_len);
    if (rc != 0) check_errstr(err, err_len);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    FUZZ_CHECK(cfg_a.kafka_props_count == 0);
    if (rc != 0) {
        if (err_len > 16) FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
        return;
    }
    char verr[512];
    int v = config_validate(&cfg_a, verr, sizeof(verr));
    FUZZ_CHECK(v == 0 || v == -EINVAL);
    check_round_trip(&cfg_a);
}

static bool prop_char_ok(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

static bool owned(const char *name) {
    static const char *const names[] = {"bootstrap.servers",  "metadata.broker.list",
                                        "group.id",           "enable.auto.commit",
                                        "auto.commit.enable", "enable.auto.offset.store",
                                        "enable.idempotence", "partitioner"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) return true;
    }
    return false;
}

static void fuzz_props(const char *text, size_t n, uint8_t knob, char *err, size_t err_len) {
    bool canary_in_input = contains(text, n, FUZZ_CANARY);
    /* The blank line ends any continuation the input leaves open. */
    static const char tail[] = "\n\nsasl.password=" FUZZ_CANARY "\n";
    char *buf = malloc(n + sizeof(tail));
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, text, n);
    memcpy(buf + n, tail, sizeof(tail) - 1);
    config_defaults(&cfg_a);
    if (knob & 0x80) config_test_alloc_fail_after(knob & 0x1f);
    int rc = config_parse_kafka_properties(&cfg_a, buf, n + sizeof(tail) - 1, "fuzz.properties",
                                           err, err_len);
    config_test_alloc_fail_after(-1);
    free(buf);
    if (rc != 0) check_errstr(err, err_len);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    if (rc != 0 && !canary_in_input && err_len > 0) FUZZ_CHECK(strstr(err, FUZZ_CANARY) == NULL);
    bool plugin = false;
    for (uint32_t i = 0; i < cfg_a.kafka_props_count; i++) {
        const inv_kafka_prop *p = &cfg_a.kafka_props[i];
        FUZZ_CHECK(p->name != NULL && p->value != NULL && p->origin != NULL);
        size_t k = strlen(p->name);
        FUZZ_CHECK(k >= 1 && k <= INV_KAFKA_PROP_NAME_MAX);
        for (size_t j = 0; j < k; j++)
            FUZZ_CHECK(prop_char_ok(p->name[j]));
        FUZZ_CHECK(!owned(p->name));
        plugin |= strstr(p->name, "plugin") != NULL || strstr(p->name, "interceptor") != NULL;
    }
    if (!canary_in_input) {
        size_t dn = 0;
        char *d = dump_of(&cfg_a, &dn);
        FUZZ_CHECK(!contains(d, dn, FUZZ_CANARY));
        free(d);
        if (rc == 0 && !plugin) {
            char verr[512];
            int v = config_kafka_validate(&cfg_a, verr, sizeof(verr));
            FUZZ_CHECK(v == 0 || v == -EINVAL);
            if (v != 0) FUZZ_CHECK(strstr(verr, FUZZ_CANARY) == NULL);
        }
    }
    config_free(&cfg_a);
    FUZZ_CHECK(cfg_a.kafka_props_count == 0);
}

/* --- the reference --cpus parser --------------------------------------------------- */

/* One number of 1..4 digits at most 1023, or -1. */
static int ref_number(const char *s, size_t n) {
    if (n < 1 || n > 4) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v > 1023 ? -1 : v;
}

/* Returns the CPU count, or -1 when the list is invalid. */
static int ref_cpus(const char *s, int *out) {
    if (strcmp(s, "") == 0 || strcmp(s, "none") == 0) return 0;
    bool seen[1024] = {false};
    int n = 0;
    const char *item = s;
    for (;;) {
        const char *end = strchr(item, ',');
        size_t len = end != NULL ? (size_t)(end - item) : strlen(item);
        const char *dash = memchr(item, '-', len);
        int lo, hi;
        if (dash == NULL) {
            lo = hi = ref_number(item, len);
        } else {
            lo = ref_number(item, (size_t)(dash - item));
            hi = ref_number(dash + 1, len - (size_t)(dash - item) - 1);
        }
        if (lo < 0 || hi < 0 || hi < lo) return -1;
        for (int c = lo; c <= hi; c++) {
            if (seen[c] || n == INV_WORKERS_MAX) return -1;
            seen[c] = true;
            out[n++] = c;
        }
        if (end == NULL) return n;
        item = end + 1;
    }
}

static void fuzz_cpus(const char *text, size_t n, char *err, size_t err_len) {
    if (n > 512) n = 512;
    char s[513];
    memcpy(s, text, n);
    s[n] = '\0';
    int cpus[INV_WORKERS_MAX], want[INV_WORKERS_MAX];
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        cpus[i] = -7;
    uint32_t count = 12345;
    int rc = config_parse_cpus(s, cpus, &count, err, err_len);
    if (rc != 0) check_errstr(err, err_len);
    int ref = ref_cpus(s, want);
    FUZZ_CHECK((rc == 0) == (ref >= 0));
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL);
        FUZZ_CHECK(count == 12345 && cpus[0] == -7);
        return;
    }
    FUZZ_CHECK(count == (uint32_t)ref);
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        FUZZ_CHECK(cpus[i] == (i < ref ? want[i] : -1));
}

static void fuzz_argv(const char *text, size_t n, char *err, size_t err_len) {
    if (contains(text, n, "config") || contains(text, n, "plugin") ||
        contains(text, n, "interceptor")) {
        return;
    }
    char *copy = malloc(n + 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, text, n);
    copy[n] = '\0';
    char *argv[FUZZ_ARGS_MAX + 2];
    int argc = 0;
    argv[argc++] = (char *)"invsyncd";
    for (size_t i = 0; i <= n && argc <= FUZZ_ARGS_MAX && n > 0;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;
    int rc = config_parse(&cfg_a, argc, argv, err, err_len);
    check_errstr(err, err_len);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EINVAL || rc == -ENOMEM);
    if (rc < 0) FUZZ_CHECK(cfg_a.kafka_props_count == 0);
    if (rc == 0) {
        char verr[512];
        FUZZ_CHECK(config_validate(&cfg_a, verr, sizeof(verr)) == 0);
        check_round_trip(&cfg_a);
    }
    config_free(&cfg_a);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t mode = data[0] & 3;
    uint8_t knob = data[1];
    size_t err_len = knob & 0x7f ? (size_t)(knob & 0x7f) * 2 : 0;
    char *err = err_len > 0 ? malloc(err_len) : NULL;
    FUZZ_CHECK(err_len == 0 || err != NULL);
    const char *text = (const char *)data + 2;
    size_t n = size - 2;
    switch (mode) {
    case 0:
        fuzz_text(text, n, err, err_len);
        break;
    case 1:
        fuzz_props(text, n, knob, err, err_len);
        break;
    case 2:
        fuzz_cpus(text, n, err, err_len);
        break;
    default:
        fuzz_argv(text, n, err, err_len);
        break;
    }
    free(err);
    return 0;
}
