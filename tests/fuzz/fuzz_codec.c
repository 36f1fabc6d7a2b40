/* fuzz_codec.c -- libFuzzer target for the store's decoders (feeds/codec.c).
 *
 * A database file is outside input (copied, restored from backup, damaged
 * by a disk), so every decoder that reads stored blobs must reject
 * anything without reading out of bounds or looping: the packed
 * IntervalBlock readings, the tagged resource and envelope blobs, the
 * feed header and packed ids.  The first input byte chooses the decoder
 * (and for resources the kind); the rest is the blob.  For readings,
 * whatever decodes is re-encoded and decoded again and must give the same
 * readings (the encoder is the decoder's inverse on its own output). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_READINGS 4096

static void fuzz_block(const uint8_t *p, size_t n, int64_t start)
{
    static espi_interval_reading rs[MAX_READINGS]; /* fuzzer scratch, not program state */
    store_block_dec d;
    uint64_t count;
    size_t got = 0;
    int rc;
    if (store_codec_block_begin(&d, p, n, start, &count, NULL)) return;
    while ((rc = store_codec_block_next(&d, &rs[got < MAX_READINGS ? got : 0], NULL)) == 1) got++;
    if (rc != 0 || got > MAX_READINGS) return;
    espi_interval_block b = {{0, start}, rs, got};
    store_buf out;
    store_buf_init(&out);
    if (store_codec_block_encode(&out, &b, NULL) == 0) {
        espi_interval_reading r;
        if (store_codec_block_begin(&d, out.p, out.len, start, &count, NULL) || count != got) abort();
        for (size_t i = 0; i < got; i++) {
            if (store_codec_block_next(&d, &r, NULL) != 1) abort();
            if (r.value != rs[i].value || r.cost != rs[i].cost ||
                r.time_period.start != rs[i].time_period.start ||
                r.time_period.duration != rs[i].time_period.duration ||
                r.n_qualities != rs[i].n_qualities || r.tou != rs[i].tou ||
                r.cpp != rs[i].cpp || r.consumption_tier != rs[i].consumption_tier)
                abort();
        }
        if (store_codec_block_next(&d, &r, NULL) != 0) abort();
    }
    store_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    size_t n = size - 1;
    switch (sel % 5) {
    case 0: fuzz_block(p, n, (int64_t)(sel >> 3) * 86400); break;
    case 1: {
        espi_entry *e = calloc(1, sizeof *e);
        if (!e) return 0;
        espi_entry_init(e);
        store_codec_entry_decode(&p, end, e, NULL);
        free(e);
        break;
    }
    case 2: {
        static const espi_resource_type kinds[] = {
            ESPI_RES_USAGE_POINT, ESPI_RES_METER_READING, ESPI_RES_READING_TYPE,
            ESPI_RES_USAGE_SUMMARY, ESPI_RES_POWER_QUALITY_SUMMARY,
            ESPI_RES_LOCAL_TIME_PARAMETERS, ESPI_RES_INTERVAL_BLOCK};
        espi_resource *r = calloc(1, sizeof *r);
        store_line_items li = {0};
        if (!r) return 0;
        store_codec_resource_decode(&p, end, kinds[(sel >> 3) % 7], r, &li, NULL);
        store_line_items_release(&li);
        free(r);
        break;
    }
    case 3: {
        espi_feed_head *h = malloc(sizeof *h);
        if (!h) return 0;
        store_codec_head_decode(p, n, h, NULL);
        free(h);
        break;
    }
    case 4: {
        char id[ESPI_ID_MAX];
        unsigned char packed[STORE_ID_PACKED_MAX];
        if (store_codec_id_unpack(p, n, id) == 0) {
            size_t k = store_codec_id_pack(id, packed);
            char again[ESPI_ID_MAX];
            if (store_codec_id_unpack(packed, k, again) || strcmp(id, again) != 0) abort();
        }
        break;
    }
    }
    return 0;
}
