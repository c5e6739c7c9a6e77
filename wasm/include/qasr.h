/* qasr: the public C API of our Qwen3-ASR / Qwen3-ForcedAligner engine. This header is the whole
 * contract with JavaScript (and the native tests and benchmarks). Every call returns a status or
 * NULL on failure; qasr_last_error() then says why in words a user can read. No C++ exception
 * crosses this boundary and malformed input never aborts the process.
 *
 * Loading streams the file: JavaScript allocates one buffer with qasr_buffer_alloc(), writes the
 * model into it part by part, then hands it to qasr_model_load(), which takes ownership: tensors
 * are used in place (no second copy of the weights).
 *
 * Returned strings belong to the engine and stay valid only until the next call of the API on the
 * same thread (copy them at once).
 *
 * Transcription is a session so that JavaScript can yield between decode steps (cancel within one
 * step, tokens streamed as they come): start (mel + encoder + prefill) → next() per token → result.
 */
#ifndef QASR_H
#define QASR_H

#include <stddef.h>
#include <stdint.h>

/* Integers crossing into JavaScript are 32-bit (no int64: without WASM_BIGINT emscripten would
 * split them into two arguments). */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qasr_model qasr_model;
typedef struct qasr_session qasr_session;

enum qasr_status {
  QASR_OK = 0,
  QASR_ERROR = -1,     /* see qasr_last_error() */
  QASR_CANCELLED = -2,
};

/* Numerics switches. The default is the official model (Transformers port); the chatllm flags
 * reproduce chatllm.cpp's departures (research/chatllm-qwen3-asr.md §9) for number-for-number
 * comparisons. */
enum qasr_numerics_flags {
  QASR_CHATLLM_FULL_ATTENTION = 1 << 0, /* encoder attends over the whole clip, not 8 s windows */
  QASR_CHATLLM_GELU_TANH_F16 = 1 << 1,  /* tanh GELU through an fp16 table instead of erf */
  QASR_CHATLLM_RMS_EPS_1E5 = 1 << 2,    /* RMSNorm eps 1e-5 instead of the config's */
  QASR_CHATLLM_AUDIO_QUANT = 1 << 3,    /* audio features round-tripped through the embedding type */
  QASR_EXACT_F32_MATMUL = 1 << 8,       /* f32 activations in every matmul (slow; for tests) */
};

typedef struct qasr_options {
  int n_threads;            /* 0 = all the build allows */
  uint32_t numerics;        /* qasr_numerics_flags */
  const char* language;     /* NULL/"" = detect; else a name of the model's languages ("English") */
  const char* context;      /* optional context text placed in the system turn (NFC, UTF-8) */
  int max_new_tokens;       /* 0 = proportional to the audio length */
  int repetition_guard;     /* 1 = stop when the output loops (default 1) */
  int ignore_eos;           /* benchmarks: keep decoding to max_new_tokens past <|im_end|> */
} qasr_options;

qasr_options qasr_default_options(void);

const char* qasr_last_error(void);
const char* qasr_build_info(void); /* JSON: kernel family, threads, version */

/* Loading. The buffer must come from qasr_buffer_alloc; on failure it is freed too. */
uint8_t* qasr_buffer_alloc(size_t n_bytes);
void qasr_buffer_free(uint8_t* buf);
qasr_model* qasr_model_load(uint8_t* buf, size_t n_bytes, int n_threads);
void qasr_model_free(qasr_model* model);
/* JSON: kind ("asr"/"aligner"), dims, quantisation, languages, parameter count, memory estimates. */
const char* qasr_model_info(const qasr_model* model);

/* ASR session. pcm: 16 kHz mono float samples (copied). */
qasr_session* qasr_session_start(qasr_model* model, const float* pcm, int32_t n_samples,
                                 const qasr_options* options);
/* Generates one token. Returns its id (>= 0), -1 when finished, QASR_ERROR on failure. */
int qasr_session_next(qasr_session* s);
/* UTF-8 text completed since the previous call (never half a character). */
const char* qasr_session_take_text(qasr_session* s);
/* JSON result: {language, text, raw, tokens:[ids], audio_tokens, prompt_tokens, timings:{...}} */
const char* qasr_session_result(qasr_session* s);
void qasr_session_free(qasr_session* s);

/* ForcedAligner: units_json is a JSON array of the aligner's text units (NFC strings: CJK
 * characters one by one, other scripts per word). Returns JSON {"start_ms":[...],"end_ms":[...],
 * "classes":[...],"audio_tokens":A,"input_tokens":L,"timings":{...}} (times relative to pcm[0]),
 * or NULL on failure. */
const char* qasr_align(qasr_model* aligner, const float* pcm, int32_t n_samples, const char* units_json,
                       uint32_t numerics);

/* Test and debug entry points (used by the reference comparisons). */
/* Log-mel of pcm into out[128 * T] (mel-major); returns T, or -1 if out_capacity is too small. */
int qasr_debug_mel(const float* pcm, int32_t n_samples, float* out, int32_t out_capacity, int n_threads);
/* Encoder output [tokens][output_dim] into out; returns the token count or -1. */
int qasr_debug_encode(qasr_model* model, const float* pcm, int32_t n_samples, uint32_t numerics,
                      float* out, int32_t out_capacity);
/* Decoder logits at the given positions for a prompt whose <|audio_pad|> ids take audio rows
 * [n_audio][hidden] in order. out: [n_positions][head_rows]. Returns QASR_OK or QASR_ERROR. */
int qasr_debug_logits(qasr_model* model, const int32_t* ids, int n_ids, const float* audio,
                      int n_audio, const int32_t* positions, int n_positions, uint32_t numerics,
                      float* out);
/* Memory bandwidth seen by this build: GB/s of reading a buffer of mb MiB with n_threads threads,
 * best of reps. */
double qasr_debug_bandwidth(int mb, int reps, int n_threads);
/* Tokenizer: ids into out (capacity n); returns the count (may exceed capacity) or -1. */
int qasr_tokenize(const qasr_model* model, const char* text, int allow_added, int32_t* out, int capacity);
const char* qasr_detokenize(const qasr_model* model, const int32_t* ids, int n, int skip_special);

#ifdef __cplusplus
}
#endif

#endif /* QASR_H */
