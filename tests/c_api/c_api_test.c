/* The C API (include/vcp/vcp.h) from a program compiled as C11 (-std=c11 -pedantic): runs a workload, opens and
 * checks tiles, signs and verifies, drives one epoch of a tiny lease through both roles with every message as
 * bytes, converts messages to JSON, and checks the error paths: each must return a nonzero code equal to the
 * error's code, with a non-empty message, and never abort. Exits 0 when every check held; prints each failure.
 *
 * Shapes: a 64x64x64 int8 workload with 8x8 tiles (64 tiles); the lease runs R = 4 such rounds per epoch with
 * k = 40 samples and a claimed rate that makes the deadline 10 s (tests/protocol_fixture.h's TinyLease). */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vcp/vcp.h"

static int failures = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

/* The error path rule: a nonzero code, the same code in the error, a non-empty message. */
static void expect_error(vcp_status status, const vcp_error* error, const char* what, int line) {
  if (status == VCP_OK) {
    fprintf(stderr, "line %d: %s: expected an error, got VCP_OK\n", line, what);
    ++failures;
    return;
  }
  if (error->code != status) {
    fprintf(stderr, "line %d: %s: status %d but error.code %d\n", line, what, status, error->code);
    ++failures;
  }
  if (error->message[0] == '\0') {
    fprintf(stderr, "line %d: %s: empty error message\n", line, what);
    ++failures;
  }
}
#define EXPECT_ERROR(status, error) expect_error((status), &(error), #status, __LINE__)
#define EXPECT_CODE(code, status, error)                                                        \
  do {                                                                                          \
    vcp_status c_ = (status);                                                                   \
    expect_error(c_, &(error), #status, __LINE__);                                              \
    if (c_ != (code)) {                                                                         \
      fprintf(stderr, "line %d: %s: code %d, expected %d (%s)\n", __LINE__, #status, c_, (code), \
              (error).message);                                                                 \
      ++failures;                                                                               \
    }                                                                                           \
  } while (0)

/* A call that must succeed: prints the library's message when it does not. */
static int ok(vcp_status status, const vcp_error* error, const char* what, int line) {
  if (status != VCP_OK) {
    fprintf(stderr, "line %d: %s failed (%d): %s\n", line, what, status, error->message);
    ++failures;
    return 0;
  }
  if (error->code != VCP_OK || error->message[0] != '\0') {
    fprintf(stderr, "line %d: %s: OK but error is %d \"%s\"\n", line, what, error->code, error->message);
    ++failures;
  }
  return 1;
}
#define OK(status, error) ok((status), &(error), #status, __LINE__)

static int contains(const vcp_buffer* text, const char* needle) {
  return text->data != NULL && text->data[text->size] == '\0' && strstr((const char*)text->data, needle) != NULL;
}

static int remove_entry(const char* path, const struct stat* st, int flag, struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void fill_key_seed(uint8_t seed[VCP_SEED_BYTES], uint8_t byte) { memset(seed, byte, VCP_SEED_BYTES); }

static vcp_workload tiny_workload(uint8_t seed_byte) {
  vcp_workload w;
  memset(&w, 0, sizeof w);
  w.kind = VCP_WORKLOAD_INT8;
  w.m = w.n = w.k = 64;
  w.tile = 8;
  memset(w.seed, seed_byte, sizeof w.seed);
  return w;
}

static void test_version(void) {
  CHECK(vcp_c_api_version() == VCP_C_API_VERSION);
  CHECK(vcp_version() != NULL && vcp_version()[0] != '\0');
  CHECK(vcp_now_us() > 1600000000000000ull);
}

static void test_workload(void) {
  vcp_error err;
  vcp_run_options cpu;
  vcp_run_options_init(&cpu);
  cpu.backend = VCP_BACKEND_CPU;
  cpu.threads = 1;
  const vcp_workload w = tiny_workload(7);

  vcp_commitment* c = NULL;
  vcp_commitment* again = NULL;
  if (!OK(vcp_workload_run(&w, &cpu, &c, &err), err)) return;
  uint64_t leaves = 0;
  OK(vcp_commitment_leaf_count(c, &leaves, &err), err);
  CHECK(leaves == 64);
  uint8_t root[VCP_HASH_BYTES], root2[VCP_HASH_BYTES];
  OK(vcp_commitment_root(c, root, &err), err);
  /* Deterministic: the same workload commits to the same root. */
  if (OK(vcp_workload_run(&w, NULL, &again, &err), err)) {
    OK(vcp_commitment_root(again, root2, &err), err);
    CHECK(memcmp(root, root2, VCP_HASH_BYTES) == 0);
  }
  vcp_commitment_free(again);

  const uint64_t tiles[3] = {0, 9, 63};
  vcp_buffer proof = {NULL, 0};
  if (OK(vcp_commitment_open(c, tiles, 3, &proof, &err), err)) {
    OK(vcp_workload_check(&w, root, sizeof root, proof.data, proof.size, 1, &err), err);

    /* The proof as JSON. */
    vcp_buffer json = {NULL, 0};
    if (OK(vcp_message_json(proof.data, proof.size, &json, &err), err)) {
      CHECK(contains(&json, "\"multiproof\""));
      CHECK(contains(&json, "\"tree_size\": 64"));
    }
    vcp_buffer_free(&json);
    CHECK(json.data == NULL && json.size == 0);

    /* Wrong root, wrong seed, a flipped proof hash byte, a truncated proof: all refused. */
    uint8_t bad_root[VCP_HASH_BYTES];
    memcpy(bad_root, root, sizeof bad_root);
    bad_root[5] ^= 1;
    EXPECT_CODE(VCP_REJECTED, vcp_workload_check(&w, bad_root, sizeof bad_root, proof.data, proof.size, 1, &err), err);
    vcp_workload other = tiny_workload(8);
    EXPECT_CODE(VCP_REJECTED, vcp_workload_check(&other, root, sizeof root, proof.data, proof.size, 1, &err), err);
    proof.data[proof.size - 1] ^= 0x80;
    EXPECT_CODE(VCP_REJECTED, vcp_workload_check(&w, root, sizeof root, proof.data, proof.size, 1, &err), err);
    proof.data[proof.size - 1] ^= 0x80;
    EXPECT_CODE(VCP_CORRUPT, vcp_workload_check(&w, root, sizeof root, proof.data, proof.size - 1, 1, &err), err);
    /* Error paths of check. */
    EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_check(&w, root, 31, proof.data, proof.size, 1, &err), err);
    EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_check(&w, NULL, 32, proof.data, proof.size, 1, &err), err);
    EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_check(&w, root, sizeof root, NULL, proof.size, 1, &err), err);
    EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_check(&w, root, sizeof root, proof.data, 0, 1, &err), err);
    EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_check(NULL, root, sizeof root, proof.data, proof.size, 1, &err), err);
    EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_check(&w, root, sizeof root, proof.data, proof.size, -1, &err), err);
    const uint8_t garbage[] = "not a multiproof at all";
    EXPECT_CODE(VCP_CORRUPT, vcp_workload_check(&w, root, sizeof root, garbage, sizeof garbage, 1, &err), err);
  }
  vcp_buffer_free(&proof);
  vcp_buffer_free(&proof); /* twice is harmless: the buffer was emptied */

  /* Error paths of run and open. */
  vcp_commitment* none = (vcp_commitment*)&err; /* must be reset to NULL on failure */
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(NULL, &cpu, &none, &err), err);
  CHECK(none == NULL);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&w, &cpu, NULL, &err), err);
  vcp_workload bad = w;
  bad.kind = 9;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&bad, &cpu, &none, &err), err);
  bad.kind = 257; /* would wrap to 1 in a byte */
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&bad, &cpu, &none, &err), err);
  bad = w;
  bad.tile = 7;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&bad, &cpu, &none, &err), err);
  bad = w;
  bad.m = 0;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&bad, &cpu, &none, &err), err);
  vcp_run_options bad_options = cpu;
  bad_options.backend = 42;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&w, &bad_options, &none, &err), err);
  bad_options = cpu;
  bad_options.threads = -3;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&w, &bad_options, &none, &err), err);
  bad_options = cpu;
  bad_options.device = -1;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_workload_run(&w, &bad_options, &none, &err), err);
  CHECK(none == NULL);

  const uint64_t unsorted[2] = {9, 3};
  const uint64_t outside[1] = {64};
  EXPECT_ERROR(vcp_commitment_open(c, unsorted, 2, &proof, &err), err);
  CHECK(proof.data == NULL && proof.size == 0);
  EXPECT_ERROR(vcp_commitment_open(c, outside, 1, &proof, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_commitment_open(c, tiles, 0, &proof, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_commitment_open(c, NULL, 3, &proof, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_commitment_open(NULL, tiles, 3, &proof, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_commitment_open(c, tiles, 3, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_commitment_root(NULL, root, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_commitment_leaf_count(c, NULL, &err), err);
  /* A NULL error pointer is allowed: only the code comes back. */
  CHECK(vcp_commitment_open(c, tiles, 0, &proof, NULL) == VCP_INVALID_ARGUMENT);
  vcp_commitment_free(c);
  vcp_commitment_free(NULL);
}

static void test_keys(const char* root_dir) {
  vcp_error err;
  uint8_t seed[VCP_SEED_BYTES];
  fill_key_seed(seed, 0x41);
  vcp_secret_key* key = NULL;
  vcp_secret_key* loaded = NULL;
  vcp_secret_key* fresh = NULL;
  if (!OK(vcp_key_from_seed(seed, sizeof seed, &key, &err), err)) return;
  OK(vcp_key_generate(&fresh, &err), err);

  const uint8_t message[] = "attest this";
  uint8_t pub[VCP_PUBLIC_KEY_BYTES], fresh_pub[VCP_PUBLIC_KEY_BYTES], sig[VCP_SIGNATURE_BYTES];
  OK(vcp_key_public(key, pub, &err), err);
  OK(vcp_key_public(fresh, fresh_pub, &err), err);
  CHECK(memcmp(pub, fresh_pub, sizeof pub) != 0);
  OK(vcp_key_sign(key, message, sizeof message, sig, &err), err);
  OK(vcp_signature_verify(pub, sizeof pub, message, sizeof message, sig, sizeof sig, &err), err);
  /* Every flipped signature byte, a wrong key and another message are rejected. */
  size_t i;
  for (i = 0; i < sizeof sig; ++i) {
    sig[i] ^= 0x01;
    const vcp_status s = vcp_signature_verify(pub, sizeof pub, message, sizeof message, sig, sizeof sig, &err);
    if (s != VCP_REJECTED) {
      fprintf(stderr, "flipped signature byte %zu: status %d\n", i, s);
      ++failures;
    }
    sig[i] ^= 0x01;
  }
  EXPECT_CODE(VCP_REJECTED,
              vcp_signature_verify(fresh_pub, sizeof fresh_pub, message, sizeof message, sig, sizeof sig, &err), err);
  EXPECT_CODE(VCP_REJECTED, vcp_signature_verify(pub, sizeof pub, message, sizeof message - 1, sig, sizeof sig, &err),
              err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_signature_verify(pub, 31, message, sizeof message, sig, sizeof sig, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_signature_verify(pub, sizeof pub, message, sizeof message, sig, 63, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_signature_verify(NULL, 32, message, sizeof message, sig, sizeof sig, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_signature_verify(pub, sizeof pub, NULL, 5, sig, sizeof sig, &err), err);
  /* The empty message is a message. */
  OK(vcp_key_sign(key, NULL, 0, sig, &err), err);
  OK(vcp_signature_verify(pub, sizeof pub, NULL, 0, sig, sizeof sig, &err), err);

  /* Save, load back, same public key; the public half resolves from the directory. */
  char dir[512];
  snprintf(dir, sizeof dir, "%s/keys", root_dir);
  if (OK(vcp_key_save(key, dir, &err), err)) {
    EXPECT_ERROR(vcp_key_save(key, dir, &err), err); /* refuses to overwrite */
    uint8_t loaded_pub[VCP_PUBLIC_KEY_BYTES], resolved_pub[VCP_PUBLIC_KEY_BYTES];
    if (OK(vcp_key_load(dir, &loaded, &err), err)) {
      OK(vcp_key_public(loaded, loaded_pub, &err), err);
      CHECK(memcmp(pub, loaded_pub, sizeof pub) == 0);
    }
    OK(vcp_public_key_load(dir, resolved_pub, &err), err);
    CHECK(memcmp(pub, resolved_pub, sizeof pub) == 0);
    char pub_file[600];
    snprintf(pub_file, sizeof pub_file, "%s/vcp.pub", dir);
    vcp_secret_key* none = NULL;
    EXPECT_ERROR(vcp_key_load(pub_file, &none, &err), err); /* the public half is not a secret key */
    CHECK(none == NULL);
  }
  vcp_secret_key* none = NULL;
  char missing[600];
  snprintf(missing, sizeof missing, "%s/no-such-key", root_dir);
  EXPECT_ERROR(vcp_key_load(missing, &none, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_key_load(NULL, &none, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_key_from_seed(seed, 31, &none, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_key_from_seed(NULL, 32, &none, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_key_generate(NULL, &err), err);
  EXPECT_ERROR(vcp_public_key_load("not-hex-and-no-file", pub, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_key_sign(NULL, message, sizeof message, sig, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_key_save(key, "", &err), err);
  CHECK(none == NULL);
  vcp_key_free(loaded);
  vcp_key_free(fresh);
  vcp_key_free(key);
  vcp_key_free(NULL);
}

static vcp_secret_key* key_from(uint8_t byte) {
  uint8_t seed[VCP_SEED_BYTES];
  vcp_secret_key* key = NULL;
  fill_key_seed(seed, byte);
  if (vcp_key_from_seed(seed, sizeof seed, &key, NULL) != VCP_OK) ++failures;
  return key;
}

static void test_lease(const char* root_dir) {
  vcp_error err;
  vcp_finding finding;
  vcp_secret_key* verifier_key = key_from(0x31);
  vcp_secret_key* provider_key = key_from(0x32);
  vcp_secret_key* stranger = key_from(0x33);
  if (verifier_key == NULL || provider_key == NULL || stranger == NULL) return;
  char vdir[512], pdir[512], pdir2[512];
  snprintf(vdir, sizeof vdir, "%s/verifier", root_dir);
  snprintf(pdir, sizeof pdir, "%s/provider", root_dir);
  snprintf(pdir2, sizeof pdir2, "%s/provider-stranger", root_dir);

  vcp_lease_terms terms;
  vcp_lease_terms_init(&terms);
  OK(vcp_key_public(provider_key, terms.provider_key, &err), err);
  terms.m = terms.n = terms.k = 64;
  terms.tile = 8;
  terms.rounds_per_epoch = 4;
  /* R x 2 x 64^3 operations at this rate take 8 s: a 10 s deadline with the default slack. */
  terms.claimed_ops_per_second_per_device = 4ull * 2 * 64 * 64 * 64 / 8;
  terms.start_us = vcp_now_us();
  terms.end_us = terms.start_us + 3600ull * 1000000;

  /* Terms the library refuses. */
  vcp_verifier* none = NULL;
  vcp_lease_terms bad = terms;
  bad.devices = 0;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, &bad, verifier_key, 0.01, &none, NULL, &err), err);
  bad = terms;
  bad.devices = 257; /* would wrap to 1 in a byte */
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, &bad, verifier_key, 0.01, &none, NULL, &err), err);
  bad = terms;
  bad.samples_per_epoch = 3;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, &bad, verifier_key, 0.01, &none, NULL, &err), err);
  bad = terms;
  bad.mode = 7;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, &bad, verifier_key, 0.01, &none, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, &terms, verifier_key, 0.0, &none, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, NULL, verifier_key, 0.01, &none, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(vdir, &terms, NULL, 0.01, &none, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_create(NULL, &terms, verifier_key, 0.01, &none, NULL, &err), err);
  CHECK(none == NULL);
  EXPECT_ERROR(vcp_verifier_open(vdir, &none, &err), err); /* nothing created yet */

  /* Verifier: the lease. */
  vcp_verifier* verifier = NULL;
  vcp_buffer lease = {NULL, 0}, acceptance = {NULL, 0}, start = {NULL, 0}, record = {NULL, 0};
  vcp_buffer challenge = {NULL, 0}, response = {NULL, 0}, verdict = {NULL, 0}, json = {NULL, 0};
  vcp_provider* provider = NULL; /* declared before the first goto: `done` frees it */
  if (!OK(vcp_verifier_create(vdir, &terms, verifier_key, 0.01, &verifier, &lease, &err), err)) goto done;
  if (OK(vcp_message_json(lease.data, lease.size, &json, &err), err)) {
    CHECK(contains(&json, "\"type\": \"lease\""));
    CHECK(contains(&json, "\"signature_valid\": true"));
    CHECK(contains(&json, "\"parameters_valid\": true"));
  }
  vcp_buffer_free(&json);

  /* Provider: accepts; a stranger's key, garbage and truncated lease bytes are refused. */
  vcp_provider* pnone = NULL;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_provider_accept(pdir2, lease.data, lease.size, stranger, &pnone, NULL, &err),
              err);
  EXPECT_CODE(VCP_CORRUPT, vcp_provider_accept(pdir2, lease.data, lease.size - 1, provider_key, &pnone, NULL, &err),
              err);
  lease.data[lease.size - 1] ^= 1; /* the verifier's signature */
  EXPECT_CODE(VCP_REJECTED, vcp_provider_accept(pdir2, lease.data, lease.size, provider_key, &pnone, NULL, &err), err);
  lease.data[lease.size - 1] ^= 1;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_provider_accept(pdir2, lease.data, 0, provider_key, &pnone, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_provider_accept(pdir2, NULL, 10, provider_key, &pnone, NULL, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_provider_accept(NULL, lease.data, lease.size, provider_key, &pnone, NULL, &err),
              err);
  CHECK(pnone == NULL);
  if (!OK(vcp_provider_accept(pdir, lease.data, lease.size, provider_key, &provider, &acceptance, &err), err)) {
    goto done;
  }
  /* One session per store: a second one on the same directory is refused while the first lives. */
  EXPECT_CODE(VCP_UNAVAILABLE, vcp_provider_open(pdir, &pnone, &err), err);
  vcp_verifier* vsecond = NULL;
  EXPECT_CODE(VCP_UNAVAILABLE, vcp_verifier_open(vdir, &vsecond, &err), err);
  CHECK(pnone == NULL && vsecond == NULL);

  /* Verifier: records the acceptance (garbage refused) and starts an on-demand epoch. */
  const uint8_t garbage[] = "VCPXgarbage bytes that are no message";
  EXPECT_ERROR(vcp_verifier_add_acceptance(verifier, garbage, sizeof garbage, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_add_acceptance(verifier, acceptance.data, 0, &err), err);
  if (!OK(vcp_verifier_add_acceptance(verifier, acceptance.data, acceptance.size, &err), err)) goto done;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_start_epoch(verifier, stranger, VCP_SCHEDULE_ON_DEMAND, &start, &err),
              err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_start_epoch(verifier, verifier_key, 5, &start, &err), err);
  if (!OK(vcp_verifier_start_epoch(verifier, verifier_key, VCP_SCHEDULE_ON_DEMAND, &start, &err), err)) goto done;

  /* Provider: proves the epoch (wrong key and garbage start refused, nothing logged). */
  vcp_run_options cpu;
  vcp_run_options_init(&cpu);
  cpu.backend = VCP_BACKEND_CPU;
  cpu.threads = 1;
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_provider_prove(provider, start.data, start.size, stranger, &cpu, &record, &err),
              err);
  EXPECT_CODE(VCP_CORRUPT, vcp_provider_prove(provider, garbage, sizeof garbage, provider_key, &cpu, &record, &err),
              err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_provider_prove(NULL, start.data, start.size, provider_key, &cpu, &record, &err),
              err);
  CHECK(record.data == NULL);
  if (!OK(vcp_provider_prove(provider, start.data, start.size, provider_key, &cpu, &record, &err), err)) goto done;
  if (OK(vcp_message_json(record.data, record.size, &json, &err), err)) {
    CHECK(contains(&json, "\"type\": \"epoch-record\""));
  }
  vcp_buffer_free(&json);

  /* Verifier: accepts the record and issues the challenge. */
  EXPECT_CODE(VCP_INVALID_ARGUMENT,
              vcp_verifier_receive_record(verifier, record.data, record.size, stranger, &challenge, &verdict, &finding,
                                          &err),
              err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT,
              vcp_verifier_receive_record(verifier, record.data, record.size, verifier_key, &challenge, &verdict, NULL,
                                          &err),
              err);
  /* Garbage is a finding, not an error: malformed-record, and the epoch stays open for the real record. */
  if (OK(vcp_verifier_receive_record(verifier, garbage, sizeof garbage, verifier_key, &challenge, &verdict, &finding,
                                     &err),
         err)) {
    CHECK(finding.reason == 2 && finding.closed == 0 && strcmp(finding.reason_name, "malformed-record") == 0);
    CHECK(finding.detail[0] != '\0' && challenge.size == 0 && verdict.size == 0);
  }
  if (!OK(vcp_verifier_receive_record(verifier, record.data, record.size, verifier_key, &challenge, &verdict, &finding,
                                      &err),
          err)) {
    goto done;
  }
  CHECK(finding.reason == 0 && finding.closed == 0 && strcmp(finding.reason_name, "pass") == 0);
  CHECK(challenge.size > 0 && verdict.size == 0);

  /* Provider: answers the challenge. */
  EXPECT_CODE(VCP_CORRUPT,
              vcp_provider_respond(provider, challenge.data, challenge.size - 1, provider_key, &cpu, &response, &err),
              err);
  if (!OK(vcp_provider_respond(provider, challenge.data, challenge.size, provider_key, &cpu, &response, &err), err)) {
    goto done;
  }

  /* Verifier: garbage is malformed-response and leaves the epoch open. */
  if (OK(vcp_verifier_receive_response(verifier, garbage, sizeof garbage, verifier_key, &verdict, &finding, &err),
         err)) {
    CHECK(finding.reason == 11 && finding.closed == 0 && verdict.size == 0);
  }
  EXPECT_CODE(VCP_INVALID_ARGUMENT,
              vcp_verifier_receive_response(verifier, response.data, response.size, stranger, &verdict, &finding, &err),
              err);
  /* Verifier: a response with a flipped signature byte is refused and leaves the epoch open; the real one passes. */
  response.data[response.size - 1] ^= 0x10;
  if (OK(vcp_verifier_receive_response(verifier, response.data, response.size, verifier_key, &verdict, &finding, &err),
         err)) {
    CHECK(finding.reason == 4 && finding.closed == 0 && verdict.size == 0); /* bad-signature */
    CHECK(finding.detail[0] != '\0');
  }
  response.data[response.size - 1] ^= 0x10;
  if (!OK(vcp_verifier_receive_response(verifier, response.data, response.size, verifier_key, &verdict, &finding,
                                        &err),
          err)) {
    goto done;
  }
  CHECK(finding.reason == 0 && finding.closed == 1 && verdict.size > 0);
  if (OK(vcp_message_json(verdict.data, verdict.size, &json, &err), err)) {
    CHECK(contains(&json, "\"type\": \"verdict\""));
    CHECK(contains(&json, "\"verdict\": \"pass\""));
  }
  vcp_buffer_free(&json);
  if (OK(vcp_verifier_report_json(verifier, 0, 0.95, &json, &err), err)) {
    CHECK(contains(&json, "\"all_passed\": true"));
    CHECK(contains(&json, "\"epochs\": 1"));
  }
  vcp_buffer_free(&json);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_verifier_report_json(verifier, 0, 1.5, &json, &err), err);

  /* Reopen both stores, as a restarted process would: the same lease and acceptance. */
  vcp_provider_free(provider);
  provider = NULL;
  vcp_verifier_free(verifier);
  verifier = NULL;
  if (OK(vcp_provider_open(pdir, &provider, &err), err)) {
    vcp_buffer again = {NULL, 0};
    if (OK(vcp_provider_acceptance(provider, &again, &err), err)) {
      CHECK(again.size == acceptance.size && memcmp(again.data, acceptance.data, again.size) == 0);
    }
    vcp_buffer_free(&again);
  }
  if (OK(vcp_verifier_open(vdir, &verifier, &err), err)) {
    vcp_buffer again = {NULL, 0};
    if (OK(vcp_verifier_lease(verifier, &again, &err), err)) {
      CHECK(again.size == lease.size && memcmp(again.data, lease.data, again.size) == 0);
    }
    vcp_buffer_free(&again);
    uint8_t id[VCP_HASH_BYTES];
    OK(vcp_verifier_lease_id(verifier, id, &err), err);
  }

done:
  vcp_buffer_free(&lease);
  vcp_buffer_free(&acceptance);
  vcp_buffer_free(&start);
  vcp_buffer_free(&record);
  vcp_buffer_free(&challenge);
  vcp_buffer_free(&response);
  vcp_buffer_free(&verdict);
  vcp_provider_free(provider);
  vcp_verifier_free(verifier);
  vcp_key_free(verifier_key);
  vcp_key_free(provider_key);
  vcp_key_free(stranger);
}

static void test_message_json_errors(void) {
  vcp_error err;
  vcp_buffer json = {NULL, 0};
  const uint8_t garbage[] = {0x56, 0x43, 0x50, 0x4c, 0x02, 0x01}; /* a lease's magic, then too few bytes */
  const uint8_t noise[] = "hello, world";
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_message_json(NULL, 12, &json, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_message_json(noise, 0, &json, &err), err);
  EXPECT_CODE(VCP_INVALID_ARGUMENT, vcp_message_json(noise, sizeof noise, NULL, &err), err);
  EXPECT_CODE(VCP_CORRUPT, vcp_message_json(noise, sizeof noise, &json, &err), err);
  EXPECT_CODE(VCP_CORRUPT, vcp_message_json(garbage, sizeof garbage, &json, &err), err);
  CHECK(json.data == NULL && json.size == 0);
}

int main(void) {
  char root_dir[] = "/tmp/vcp-c-api-test-XXXXXX";
  if (mkdtemp(root_dir) == NULL) {
    fprintf(stderr, "no temporary directory\n");
    return 1;
  }
  test_version();
  test_workload();
  test_keys(root_dir);
  test_lease(root_dir);
  test_message_json_errors();
  nftw(root_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed\n");
  return 0;
}
