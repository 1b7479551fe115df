/* The C API (vcp/vcp.h) end to end from a C11 program: a verifier seeds a workload, a provider runs and commits
 * it, the verifier checks four opened tiles from the seed alone; then both roles of a lease run one epoch (start,
 * prove, challenge, respond, verdict) with every message crossing as bytes, and the verifier prints its report.
 * Small shapes: 64x64x64 int8 with 8x8 tiles, one device, R = 2 rounds, 40 sampled tiles. Exits 0 when the tiles
 * checked and the epoch passed.
 *
 *   cc -std=c11 lease_both_roles.c $(pkg-config --cflags --libs vcp)
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcp/vcp.h"

/* Prints the failed call's message and says whether it failed. */
static int failed(vcp_status status, const vcp_error* error, const char* what) {
  if (status == VCP_OK) return 0;
  fprintf(stderr, "%s: error %d: %s\n", what, status, error->message);
  return 1;
}

static int run_and_check(void) {
  vcp_error err;
  vcp_workload w;
  memset(&w, 0, sizeof w);
  w.kind = VCP_WORKLOAD_INT8;
  w.m = w.n = w.k = 64;
  w.tile = 8;
  memset(w.seed, 0x5a, sizeof w.seed); /* a verifier would use fresh randomness */

  vcp_commitment* commitment = NULL;
  if (failed(vcp_workload_run(&w, NULL, &commitment, &err), &err, "run")) return 1;
  uint8_t root[VCP_HASH_BYTES];
  uint64_t leaves = 0;
  vcp_commitment_root(commitment, root, NULL);
  vcp_commitment_leaf_count(commitment, &leaves, NULL);

  const uint64_t tiles[4] = {1, 17, 40, 63}; /* chosen after the root is known */
  vcp_buffer proof = {NULL, 0};
  int bad = failed(vcp_commitment_open(commitment, tiles, 4, &proof, &err), &err, "open") ||
            failed(vcp_workload_check(&w, root, sizeof root, proof.data, proof.size, 0, &err), &err, "check");
  if (!bad) printf("workload       %llu tiles committed, 4 opened in %zu proof bytes: checked\n",
                   (unsigned long long)leaves, proof.size);
  vcp_buffer_free(&proof);
  vcp_commitment_free(commitment);
  return bad;
}

static int lease(const char* root_dir) {
  vcp_error err;
  vcp_finding finding;
  char vdir[512], pdir[512];
  snprintf(vdir, sizeof vdir, "%s/verifier", root_dir);
  snprintf(pdir, sizeof pdir, "%s/provider", root_dir);
  vcp_secret_key *verifier_key = NULL, *provider_key = NULL;
  vcp_verifier* verifier = NULL;
  vcp_provider* provider = NULL;
  vcp_buffer lease = {NULL, 0}, acceptance = {NULL, 0}, start = {NULL, 0}, record = {NULL, 0};
  vcp_buffer challenge = {NULL, 0}, response = {NULL, 0}, verdict = {NULL, 0}, report = {NULL, 0};
  int bad = 1;

  if (failed(vcp_key_generate(&verifier_key, &err), &err, "verifier key") ||
      failed(vcp_key_generate(&provider_key, &err), &err, "provider key")) {
    goto done;
  }

  /* Verifier: the terms. R x 2MNK = 1048576 operations per device at 21845 ops/s is a 48 s compute time, 60 s
   * with the default slack (generous: a loaded machine must meet it). */
  vcp_lease_terms terms;
  vcp_lease_terms_init(&terms);
  vcp_key_public(provider_key, terms.provider_key, NULL);
  terms.m = terms.n = terms.k = 64;
  terms.tile = 8;
  terms.rounds_per_epoch = 2;
  terms.claimed_ops_per_second_per_device = 21845;
  terms.start_us = vcp_now_us();
  terms.end_us = terms.start_us + 3600ull * 1000000;
  if (failed(vcp_verifier_create(vdir, &terms, verifier_key, 0.02, &verifier, &lease, &err), &err, "lease new")) {
    goto done;
  }
  printf("lease new      %zu bytes\n", lease.size);

  /* Provider: checks the lease and signs the acceptance. */
  if (failed(vcp_provider_accept(pdir, lease.data, lease.size, provider_key, &provider, &acceptance, &err), &err,
             "lease accept") ||
      failed(vcp_verifier_add_acceptance(verifier, acceptance.data, acceptance.size, &err), &err, "add acceptance")) {
    goto done;
  }
  printf("lease accept   %zu bytes\n", acceptance.size);

  /* One epoch, on demand. */
  if (failed(vcp_verifier_start_epoch(verifier, verifier_key, VCP_SCHEDULE_ON_DEMAND, &start, &err), &err,
             "epoch start") ||
      failed(vcp_provider_prove(provider, start.data, start.size, provider_key, NULL, &record, &err), &err, "prove") ||
      failed(vcp_verifier_receive_record(verifier, record.data, record.size, verifier_key, &challenge, &verdict,
                                         &finding, &err),
             &err, "receive record")) {
    goto done;
  }
  printf("prove          record %zu bytes: %s\n", record.size, finding.reason_name);
  if (finding.reason != 0) {
    fprintf(stderr, "the record was refused: %s\n", finding.detail);
    goto done;
  }
  if (failed(vcp_provider_respond(provider, challenge.data, challenge.size, provider_key, NULL, &response, &err), &err,
             "respond") ||
      failed(vcp_verifier_receive_response(verifier, response.data, response.size, verifier_key, &verdict, &finding,
                                           &err),
             &err, "receive response")) {
    goto done;
  }
  printf("verify         %s: %s\n", finding.reason_name, finding.detail);
  if (failed(vcp_verifier_report_json(verifier, 0, 0.95, &report, &err), &err, "report")) goto done;
  /* The report is `vcp report --json`'s object; a program would parse it, this one only shows where it starts. */
  printf("report         %zu bytes of JSON: %.60s...\n", report.size, (const char*)report.data);
  bad = !(finding.reason == 0 && finding.closed);

done:
  vcp_buffer_free(&lease);
  vcp_buffer_free(&acceptance);
  vcp_buffer_free(&start);
  vcp_buffer_free(&record);
  vcp_buffer_free(&challenge);
  vcp_buffer_free(&response);
  vcp_buffer_free(&verdict);
  vcp_buffer_free(&report);
  vcp_provider_free(provider);
  vcp_verifier_free(verifier);
  vcp_key_free(verifier_key);
  vcp_key_free(provider_key);
  return bad;
}

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(void) {
  printf("vcp            %s, C API %d\n", vcp_version(), vcp_c_api_version());
  char root_dir[] = "/tmp/vcp-example-c-XXXXXX";
  if (mkdtemp(root_dir) == NULL) {
    fprintf(stderr, "no temporary directory for the stores\n");
    return 1;
  }
  const int bad = run_and_check() || lease(root_dir);
  nftw(root_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return bad ? 1 : 0;
}
