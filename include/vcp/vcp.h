/* vcp/vcp.h: the C API of libvcp, for programs and languages that cannot use the C++ headers. One header, C11
 * (and C++) compatible; the implementation is lib/c_api.cpp, thin wrappers over the C++ public API
 * (vcp/workload.h, engine.h, keys.h, lease_session.h, message_json.h, protocol.h).
 *
 * Ownership: handles (vcp_commitment, vcp_secret_key, vcp_provider, vcp_verifier) are opaque, created by the
 * library and released by the caller with their *_free function (NULL is accepted and ignored). Byte inputs are
 * pointer + length, borrowed for the call only. Outputs of varying size are vcp_buffer values the library
 * allocates and the caller releases with vcp_buffer_free; an output buffer is overwritten on entry (set empty),
 * so pass one that holds nothing. Fixed-size outputs (hashes, keys, signatures) go to caller-owned arrays of the
 * VCP_*_BYTES sizes below. Text outputs (JSON) are buffers whose data is also NUL-terminated (size excludes it).
 *
 * Thread safety: functions are reentrant. A commitment or secret key may be used from several threads at once; a
 * provider or verifier session from one thread at a time.
 *
 * Errors: every fallible call returns a vcp_status (VCP_OK = 0, otherwise one of the codes below, which mirror
 * vcp::StatusCode) and, when `error` is not NULL, fills it with the same code and a message saying what was wrong
 * and what is allowed (cut to fit, always NUL-terminated; "" on success). No call aborts or throws on bad input:
 * NULL pointers, zero lengths, garbage bytes and wrong keys all return a code and a message. On failure, output
 * handles are set to NULL and output buffers left empty.
 *
 * Protocol outcomes are not errors: a record or response the verifier checked and found wrong returns VCP_OK with
 * a vcp_finding whose reason is nonzero (the vcp::Reason codes, docs/PROTOCOL.md) and, when it closed the epoch,
 * the signed verdict's bytes.
 *
 * Scope: interactive-mode leases. A beacon-mode lease can be created and accepted, but its responses need a
 * beacon source, which this API does not take yet (the C++ API's RespondBeacon / VerifierOptions::beacon).
 */
#ifndef VCP_VCP_H_
#define VCP_VCP_H_

#include <stddef.h>
#include <stdint.h>

/* VCP_EXPORT marks the symbols the shared library exports (vcp/export.h: C and C++ compatible). */
#include "vcp/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this C API: raised on every incompatible change of a declaration below. */
#define VCP_C_API_VERSION 1

/* ---- errors and buffers -------------------------------------------------------------------------------------- */

typedef int vcp_status;
enum {
  VCP_OK = 0,
  VCP_INVALID_ARGUMENT = 1, /* the caller asked for something impossible or out of range (NULL, zero length) */
  VCP_IO_ERROR = 2,         /* a file could not be read or written */
  VCP_CORRUPT = 3,          /* bytes did not parse */
  VCP_REJECTED = 4,         /* a proof, signature or record was checked and found wrong */
  VCP_UNAVAILABLE = 5,      /* a backend or device is not usable here; a store is locked by another session */
  VCP_RESOURCE_EXHAUSTED = 6,
  VCP_INTERNAL = 7 /* a broken invariant or an unexpected library failure */
};

#define VCP_ERROR_MESSAGE_BYTES 512
typedef struct vcp_error {
  int code;                               /* the call's vcp_status */
  char message[VCP_ERROR_MESSAGE_BYTES];  /* NUL-terminated; "" when code is VCP_OK */
} vcp_error;

typedef struct vcp_buffer {
  uint8_t* data; /* NULL when empty */
  size_t size;
} vcp_buffer;
/* Releases data and empties the buffer; NULL and an empty buffer are accepted. */
VCP_EXPORT void vcp_buffer_free(vcp_buffer* buffer);

/* The library release ("0.2.0", static storage) and VCP_C_API_VERSION as the library was built with it. */
VCP_EXPORT const char* vcp_version(void);
VCP_EXPORT int vcp_c_api_version(void);
/* The library's system clock, microseconds since the Unix epoch (lease times are on it). */
VCP_EXPORT uint64_t vcp_now_us(void);

#define VCP_HASH_BYTES 32
#define VCP_SEED_BYTES 32
#define VCP_PUBLIC_KEY_BYTES 32
#define VCP_SIGNATURE_BYTES 64

/* ---- workloads: run, open, check (vcp/workload.h, vcp/engine.h) ---------------------------------------------- */

enum { VCP_WORKLOAD_INT8 = 1, VCP_WORKLOAD_FP32_ORDERED = 2 };
typedef struct vcp_workload {
  int kind;                    /* VCP_WORKLOAD_* */
  uint32_t m, n, k;            /* C (m x n) = A (m x k) * B (k x n) */
  uint32_t tile;               /* a power of two in [8, 256] */
  uint8_t seed[VCP_SEED_BYTES];
} vcp_workload;

enum { VCP_BACKEND_AUTO = 0, VCP_BACKEND_CPU = 1, VCP_BACKEND_CUDA = 2 };
typedef struct vcp_run_options {
  int backend; /* VCP_BACKEND_*; AUTO honours VCP_BACKEND=cpu|cuda */
  int threads; /* CPU threads; 0 = all hardware threads */
  int device;  /* CUDA device ordinal */
} vcp_run_options;
/* AUTO backend, all threads, device 0: what a NULL vcp_run_options pointer means. */
VCP_EXPORT void vcp_run_options_init(vcp_run_options* options);

typedef struct vcp_commitment vcp_commitment;

/* Generates A and B from the seed, computes C on the backend and commits its tiles to a Merkle tree. */
VCP_EXPORT vcp_status vcp_workload_run(const vcp_workload* workload, const vcp_run_options* options,
                                       vcp_commitment** out, vcp_error* error);
VCP_EXPORT void vcp_commitment_free(vcp_commitment* commitment);
VCP_EXPORT vcp_status vcp_commitment_root(const vcp_commitment* commitment, uint8_t root[VCP_HASH_BYTES],
                                          vcp_error* error);
VCP_EXPORT vcp_status vcp_commitment_leaf_count(const vcp_commitment* commitment, uint64_t* leaf_count,
                                                vcp_error* error);
/* The multiproof file bytes (magic "VCPM", docs/SPEC.md section 7.4) opening `count` strictly increasing tile
 * indices, each below the leaf count. */
VCP_EXPORT vcp_status vcp_commitment_open(const vcp_commitment* commitment, const uint64_t* indices, size_t count,
                                          vcp_buffer* proof, vcp_error* error);
/* Verifier: recomputes each opened tile on the CPU from the seed and checks the multiproof against the root
 * (root_size must be VCP_HASH_BYTES). VCP_REJECTED when it does not hold; threads 0 = all. */
VCP_EXPORT vcp_status vcp_workload_check(const vcp_workload* workload, const uint8_t* root, size_t root_size,
                                         const uint8_t* proof, size_t proof_size, int threads, vcp_error* error);

/* ---- keys: Ed25519 (vcp/keys.h) ------------------------------------------------------------------------------- */

typedef struct vcp_secret_key vcp_secret_key;

VCP_EXPORT vcp_status vcp_key_generate(vcp_secret_key** out, vcp_error* error);
/* Deterministic key from a 32-byte seed (tests). */
VCP_EXPORT vcp_status vcp_key_from_seed(const uint8_t* seed, size_t seed_size, vcp_secret_key** out,
                                        vcp_error* error);
/* A vcp.key file or a directory holding one (refused when readable by group or others). */
VCP_EXPORT vcp_status vcp_key_load(const char* path, vcp_secret_key** out, vcp_error* error);
/* Writes DIR/vcp.key (0600) and DIR/vcp.pub; refuses to overwrite an existing key. */
VCP_EXPORT vcp_status vcp_key_save(const vcp_secret_key* key, const char* dir, vcp_error* error);
VCP_EXPORT void vcp_key_free(vcp_secret_key* key);
VCP_EXPORT vcp_status vcp_key_public(const vcp_secret_key* key, uint8_t public_key[VCP_PUBLIC_KEY_BYTES],
                                     vcp_error* error);
/* A public key given as 64 hex digits, a vcp.pub file or a directory holding one. */
VCP_EXPORT vcp_status vcp_public_key_load(const char* argument, uint8_t public_key[VCP_PUBLIC_KEY_BYTES],
                                          vcp_error* error);
/* message may be NULL when message_size is 0. */
VCP_EXPORT vcp_status vcp_key_sign(const vcp_secret_key* key, const uint8_t* message, size_t message_size,
                                   uint8_t signature[VCP_SIGNATURE_BYTES], vcp_error* error);
/* VCP_OK when the signature verifies under the public key, VCP_REJECTED when it does not. */
VCP_EXPORT vcp_status vcp_signature_verify(const uint8_t* public_key, size_t public_key_size, const uint8_t* message,
                                           size_t message_size, const uint8_t* signature, size_t signature_size,
                                           vcp_error* error);

/* ---- lease sessions (vcp/lease_session.h); every message crosses as its canonical bytes ----------------------- */

enum { VCP_MODE_INTERACTIVE = 1, VCP_MODE_BEACON = 2 };
enum { VCP_SCHEDULE_SCHEDULED = 1, VCP_SCHEDULE_ON_DEMAND = 2 };

/* The terms of a new lease: everything but the nonce, the verifier key and the signature, which
 * vcp_verifier_create fills in (vcp::Lease; docs/PROTOCOL.md section 5 for the deadline these imply). */
typedef struct vcp_lease_terms {
  int mode; /* VCP_MODE_* */
  uint8_t provider_key[VCP_PUBLIC_KEY_BYTES];
  int workload_kind; /* VCP_WORKLOAD_* */
  uint32_t m, n, k, tile;
  uint32_t devices;           /* D, 1..16 */
  uint32_t rounds_per_epoch;  /* R */
  uint32_t samples_per_epoch; /* k: at least 40 (interactive) / 80 (beacon) */
  uint64_t claimed_ops_per_second_per_device;
  uint32_t slack_ppm;
  uint64_t network_allowance_us;
  uint64_t start_us, end_us;
  const char* beacon_name; /* beacon mode only, else NULL; borrowed for the call */
  uint64_t beacon_genesis_us, beacon_period_us;
} vcp_lease_terms;
/* Interactive, int8, tile 32, one device, the minimum samples, the default slack (0.25), zero elsewhere. */
VCP_EXPORT void vcp_lease_terms_init(vcp_lease_terms* terms);

/* What the verifier found in a record or response: reason 0 (pass) or a vcp::Reason code, with its name and an
 * explanation (cut to fit); `closed` is 1 when it closed the epoch with a verdict. */
typedef struct vcp_finding {
  int reason;
  int closed;
  char reason_name[32];
  char detail[VCP_ERROR_MESSAGE_BYTES];
} vcp_finding;

typedef struct vcp_provider vcp_provider;

/* Checks the lease bytes (signature, terms, provider key = key's), creates the provider store in DIR and signs the
 * acceptance, whose bytes go to `acceptance` (may be NULL; vcp_provider_acceptance gives them again). */
VCP_EXPORT vcp_status vcp_provider_accept(const char* dir, const uint8_t* lease, size_t lease_size,
                                          const vcp_secret_key* key, vcp_provider** out, vcp_buffer* acceptance,
                                          vcp_error* error);
/* Reopens a provider store (resuming where the last completed call left off). */
VCP_EXPORT vcp_status vcp_provider_open(const char* dir, vcp_provider** out, vcp_error* error);
VCP_EXPORT void vcp_provider_free(vcp_provider* provider);
VCP_EXPORT vcp_status vcp_provider_acceptance(const vcp_provider* provider, vcp_buffer* acceptance,
                                              vcp_error* error);
/* Runs the epoch an epoch-start message asks for and returns the signed record's bytes (the same start again: the
 * logged record). options NULL: defaults. */
VCP_EXPORT vcp_status vcp_provider_prove(vcp_provider* provider, const uint8_t* start, size_t start_size,
                                         const vcp_secret_key* key, const vcp_run_options* options,
                                         vcp_buffer* record, vcp_error* error);
/* Answers a challenge message with the signed response's bytes. */
VCP_EXPORT vcp_status vcp_provider_respond(vcp_provider* provider, const uint8_t* challenge, size_t challenge_size,
                                           const vcp_secret_key* key, const vcp_run_options* options,
                                           vcp_buffer* response, vcp_error* error);

typedef struct vcp_verifier vcp_verifier;

/* Signs a lease over the terms with `key`, creates the verifier store in DIR with a secret audit schedule taking
 * audit_share (0 < share <= 1) of the lease's time, and returns the lease bytes in `lease` (may be NULL). */
VCP_EXPORT vcp_status vcp_verifier_create(const char* dir, const vcp_lease_terms* terms, const vcp_secret_key* key,
                                          double audit_share, vcp_verifier** out, vcp_buffer* lease,
                                          vcp_error* error);
VCP_EXPORT vcp_status vcp_verifier_open(const char* dir, vcp_verifier** out, vcp_error* error);
VCP_EXPORT void vcp_verifier_free(vcp_verifier* verifier);
VCP_EXPORT vcp_status vcp_verifier_lease(const vcp_verifier* verifier, vcp_buffer* lease, vcp_error* error);
VCP_EXPORT vcp_status vcp_verifier_lease_id(const vcp_verifier* verifier, uint8_t lease_id[VCP_HASH_BYTES],
                                            vcp_error* error);
/* Checks the provider's signature over the lease and records the acceptance. */
VCP_EXPORT vcp_status vcp_verifier_add_acceptance(vcp_verifier* verifier, const uint8_t* acceptance,
                                                  size_t acceptance_size, vcp_error* error);
/* Issues the next epoch (schedule VCP_SCHEDULE_*) and returns the signed epoch-start bytes. */
VCP_EXPORT vcp_status vcp_verifier_start_epoch(vcp_verifier* verifier, const vcp_secret_key* key, int schedule,
                                               vcp_buffer* start, vcp_error* error);
/* Notes the record's arrival and checks it. Accepted: finding->reason 0 and the challenge's bytes in
 * `challenge`. Refused: finding says why, and `verdict` holds the signed verdict when it closed the epoch. */
VCP_EXPORT vcp_status vcp_verifier_receive_record(vcp_verifier* verifier, const uint8_t* record, size_t record_size,
                                                  const vcp_secret_key* key, vcp_buffer* challenge,
                                                  vcp_buffer* verdict, vcp_finding* finding, vcp_error* error);
/* Checks a response: with a verdict (finding->closed 1) the epoch closed, pass or fail; without one the response
 * was refused and the epoch stays open. */
VCP_EXPORT vcp_status vcp_verifier_receive_response(vcp_verifier* verifier, const uint8_t* response,
                                                    size_t response_size, const vcp_secret_key* key,
                                                    vcp_buffer* verdict, vcp_finding* finding, vcp_error* error);
/* The lease report as `vcp report --json` prints it, at now_us (0: the system clock) and confidence in (0, 1). */
VCP_EXPORT vcp_status vcp_verifier_report_json(const vcp_verifier* verifier, uint64_t now_us, double confidence,
                                               vcp_buffer* json, vcp_error* error);

/* ---- messages (vcp/message_json.h) ---------------------------------------------------------------------------- */

/* Any protocol message, or a multiproof file, as `vcp inspect` prints it (pretty JSON text, NUL-terminated). */
VCP_EXPORT vcp_status vcp_message_json(const uint8_t* bytes, size_t size, vcp_buffer* json, vcp_error* error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VCP_VCP_H_ */
