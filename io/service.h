/* service.h - invsyncd put together: Kafka (embedded or real), the engine,
 * one Kafka worker per engine worker, the consumer group and its rebalances,
 * and graceful shutdown.
 *
 * Start-up: topics (created when missing, partition counts checked), the
 * engine sized to the canonical topic's partitions, the workers, then the
 * group subscription. On each assignment the control thread looks up the
 * committed offsets, forwards each partition to its owner's queue and tells
 * the owner to restore it; on each revocation it has the owners flush and
 * close their partitions, then commits before giving them up.
 * Control thread only (the thread that calls service_run). */
#ifndef INV_SERVICE_H
#define INV_SERVICE_H

#include "config.h"

/* Control thread. Runs the service until *stop becomes non-zero (a signal
 * handler sets it) or a fatal error. Returns 0 after a clean shutdown (every
 * owned partition flushed and committed), or 1 with the error logged. */
int service_run(const inv_config *cfg, volatile int *stop);

#endif
