/* fetch_waker.h - wakes librdkafka's fetcher once a worker drained its queue.
 *
 * librdkafka (2.0.2, Debian's) stops fetching a partition whose queue went
 * over queued.max.messages.kbytes or queued.min.messages, and looks at that
 * queue again only when the broker thread wakes for some other reason: up to
 * about a second later, while the worker has long emptied its queue and
 * waits (measured with debug=fetch: 0.7-0.8 s per cycle, one worker at half
 * its rate). No consumer call wakes that thread directly (2.4 added
 * fetch.queue.backoff.ms for it). A request to the partitions' leaders does:
 * the broker thread that sends a ListOffsets request runs its loop, finds the
 * drained queue and fetches.
 *
 * So a worker whose queue was deep and is now nearly empty pokes the waker
 * with its partitions; the waker's own thread asks their leaders for the
 * latest offsets (rd_kafka_offsets_for_times) and drops the answer. The
 * worker never waits for the broker: a poke only marks partitions and
 * signals. Pokes that arrive while a request is out are merged into the
 * next one, so there is at most one request in flight.
 *
 * Threads: start and stop on the control thread; poke and the counters from
 * any thread. */
#ifndef INV_FETCH_WAKER_H
#define INV_FETCH_WAKER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inv_fetch_waker inv_fetch_waker;

/* Control thread. Starts the waker thread for topic's partitions of consumer
 * (both outlive the waker: stop it before the consumer is closed). Returns 0,
 * or -errno with errstr. */
int fetch_waker_start(inv_fetch_waker **out, rd_kafka_t *consumer, const char *topic,
                      char *errstr, size_t errstr_len);

/* Any thread. Marks partitions[0..n) (each in [0, INV_PARTITIONS_MAX); others
 * are a programmer error) for the next request and wakes the waker thread.
 * Takes the waker's lock briefly; never waits for Kafka. No effect on a
 * stopped waker or NULL. */
void fetch_waker_poke(inv_fetch_waker *fw, const int32_t *partitions, size_t n);

/* Any thread. Requests sent so far (a merged poke counts once); 0 for NULL. */
uint64_t fetch_waker_requests(const inv_fetch_waker *fw);

/* Control thread. Stops the thread (waits for a request in flight, at most
 * INV_FETCH_WAKE_TIMEOUT_MS) and frees the waker. NULL allowed. */
void fetch_waker_stop(inv_fetch_waker *fw);

#endif
