// The extern "C" API of qasr.h: validates arguments, turns every failure into a status plus a
// readable last error, and keeps C++ exceptions (bad_alloc) from crossing into JavaScript.
#include "qasr.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "aligner.h"
#include "asr.h"
#include "decoder.h"
#include "encoder.h"
#include "json.h"
#include "mel.h"
#include "model.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define QASR_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define QASR_EXPORT
#endif

using namespace qasr;

struct qasr_model {
  Model m;
};

struct qasr_session {
  AsrSession s;
  std::string text;    // storage for qasr_session_take_text
  std::string result;  // storage for qasr_session_result
};

namespace {

thread_local std::string g_error;
thread_local std::string g_string;  // storage for returned strings

void set_error(const std::string& e) { g_error = e; }

template <typename F>
auto guarded(F&& f, decltype(f()) on_error) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    set_error("Out of memory");
  } catch (const std::exception& e) {
    set_error(std::string("Internal error: ") + e.what());
  } catch (...) {
    set_error("Internal error");
  }
  return on_error;
}

int threads_or_default(int n) {
  const int max = max_threads_for_build();
  return n <= 0 ? max : std::min(n, max);
}

AsrOptions to_asr_options(const qasr_options* o) {
  AsrOptions a;
  if (!o) return a;
  a.numerics = Numerics::from_flags(o->numerics);
  a.language = o->language ? o->language : "";
  a.context = o->context ? o->context : "";
  a.max_new_tokens = o->max_new_tokens;
  a.repetition_guard = o->repetition_guard != 0;
  a.ignore_eos = o->ignore_eos != 0;
  return a;
}

std::string model_info_json(const Model& m) {
  const ModelFile& f = m.file;
  const AudioConfig& a = f.audio;
  const TextConfig& t = f.text;
  std::string langs = "[";
  for (size_t i = 0; i < f.languages.size(); ++i) langs += (i ? "," : "") + json_quote(f.languages[i]);
  langs += "]";
  // Memory: the file stays resident; widened conv kernels; per 30 s request the KV cache and the
  // encoder activations (see README "Memory").
  const double conv_bytes = 4.0 * (m.enc.conv1_w.size() + m.enc.conv2_w.size() + m.enc.conv3_w.size());
  const double kv_per_pos = 2.0 * 4 * t.num_layers * t.num_kv_heads * t.head_dim;
  // Bytes of weights one decode step reads: every decoder matrix plus the head (bandwidth bench).
  double decode_bytes = static_cast<double>(row_bytes(m.dec.head.w.type, m.dec.head.w.cols)) * m.dec.head.w.rows;
  for (const DecoderLayer& l : m.dec.layers)
    for (const Linear* p : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      decode_bytes += static_cast<double>(row_bytes(p->w.type, p->w.cols)) * p->w.rows;
  char buf[1536];
  std::snprintf(buf, sizeof buf,
                "{\"kind\":\"%s\",\"model_type\":%u,\"quant\":\"%s\",\"file_bytes\":%zu,"
                "\"audio\":{\"d_model\":%d,\"layers\":%d,\"heads\":%d,\"ffn\":%d,\"conv_channels\":%d,"
                "\"n_window\":%d,\"n_window_infer\":%d,\"output_dim\":%d},"
                "\"text\":{\"hidden\":%d,\"layers\":%d,\"heads\":%d,\"kv_heads\":%d,\"head_dim\":%d,"
                "\"intermediate\":%d,\"vocab\":%d,\"head_rows\":%d,\"rope_theta\":%g,\"rms_norm_eps\":%g},"
                "\"classify_num\":%d,\"timestamp_segment_ms\":%d,\"threads\":%d,"
                "\"memory\":{\"weights_bytes\":%.0f,\"kv_bytes_per_position\":%.0f,\"decode_weight_bytes\":%.0f},"
                "\"languages\":",
                f.is_aligner() ? "aligner" : "asr", f.model_type, f.quant_name.c_str(), m.buffer_size, a.d_model,
                a.encoder_layers, a.encoder_attention_heads, a.encoder_ffn_dim, a.downsample_hidden_size,
                a.n_window, a.n_window_infer, a.output_dim, t.hidden_size, t.num_layers, t.num_heads,
                t.num_kv_heads, t.head_dim, t.intermediate_size, t.vocab_size, t.head_rows, t.rope_theta,
                t.rms_norm_eps, f.raw.classify_num, f.timestamp_segment_ms, m.pool->size(),
                static_cast<double>(m.buffer_size) + conv_bytes, kv_per_pos, decode_bytes);
  return std::string(buf) + langs + "}";
}

}  // namespace

extern "C" {

QASR_EXPORT qasr_options qasr_default_options(void) {
  qasr_options o;
  std::memset(&o, 0, sizeof o);
  o.repetition_guard = 1;
  return o;
}

QASR_EXPORT const char* qasr_last_error(void) { return g_error.c_str(); }

QASR_EXPORT const char* qasr_build_info(void) {
  g_string = std::string("{\"kernels\":") + json_quote(kernel_family()) +
             ",\"max_threads\":" + std::to_string(max_threads_for_build()) + ",\"api\":1}";
  return g_string.c_str();
}

QASR_EXPORT uint8_t* qasr_buffer_alloc(size_t n_bytes) {
  uint8_t* p = static_cast<uint8_t*>(std::malloc(n_bytes ? n_bytes : 1));
  if (!p) set_error("Not enough memory to hold the model (" + std::to_string(n_bytes / (1024 * 1024)) + " MB)");
  return p;
}

QASR_EXPORT void qasr_buffer_free(uint8_t* buf) { std::free(buf); }

QASR_EXPORT qasr_model* qasr_model_load(uint8_t* buf, size_t n_bytes, int n_threads) {
  if (!buf) {
    set_error("No model data");
    return nullptr;
  }
  qasr_model* out = guarded([&]() -> qasr_model* {
    qasr_model* h = new qasr_model();
    Model& m = h->m;
    m.buffer = buf;  // owned from here on (freed by ~Model)
    m.buffer_size = n_bytes;
    std::string err;
    if (!parse_ggmm(buf, n_bytes, &m.file, &err) || !m.tokenizer.init(m.file, &err) ||
        (m.pool = std::make_unique<ThreadPool>(threads_or_default(n_threads)), !build_model(&m, &err))) {
      set_error(err);
      delete h;
      return nullptr;
    }
    m.info_json = model_info_json(m);
    return h;
  }, nullptr);
  return out;
}

QASR_EXPORT void qasr_model_free(qasr_model* model) { delete model; }

QASR_EXPORT const char* qasr_model_info(const qasr_model* model) {
  return model ? model->m.info_json.c_str() : "{}";
}

QASR_EXPORT qasr_session* qasr_session_start(qasr_model* model, const float* pcm, int32_t n_samples,
                                             const qasr_options* options) {
  if (!model || (!pcm && n_samples > 0) || n_samples < 0) {
    set_error("Invalid arguments");
    return nullptr;
  }
  return guarded([&]() -> qasr_session* {
    qasr_session* s = new qasr_session();
    std::string err;
    if (!s->s.start(&model->m, pcm, n_samples, to_asr_options(options), &err)) {
      set_error(err);
      delete s;
      return nullptr;
    }
    return s;
  }, nullptr);
}

QASR_EXPORT int qasr_session_next(qasr_session* s) {
  if (!s) return QASR_ERROR;
  return guarded([&]() -> int {
    const int r = s->s.next();
    if (r == -2) {
      set_error(s->s.error());
      return QASR_ERROR;
    }
    return r;
  }, QASR_ERROR);
}

QASR_EXPORT const char* qasr_session_take_text(qasr_session* s) {
  if (!s) return "";
  s->text = s->s.take_text();
  return s->text.c_str();
}

QASR_EXPORT const char* qasr_session_result(qasr_session* s) {
  if (!s) return "{}";
  s->result = guarded([&]() { return s->s.result_json(); }, std::string("{}"));
  return s->result.c_str();
}

QASR_EXPORT void qasr_session_free(qasr_session* s) { delete s; }

QASR_EXPORT const char* qasr_align(qasr_model* model, const float* pcm, int32_t n_samples, const char* units_json,
                                   uint32_t numerics) {
  if (!model || (!pcm && n_samples > 0) || n_samples < 0 || !units_json) {
    set_error("Invalid arguments");
    return nullptr;
  }
  const bool ok = guarded([&]() -> bool {
    Json j;
    std::string err;
    if (!Json::parse(units_json, &j, &err) || !j.is_array()) {
      set_error("The aligner's units must be a JSON array of strings");
      return false;
    }
    std::vector<std::string> units;
    for (const Json& u : j.items()) {
      if (!u.is_string()) {
        set_error("The aligner's units must be a JSON array of strings");
        return false;
      }
      units.push_back(u.string_or(""));
    }
    AlignResult r;
    if (!align_units(&model->m, pcm, n_samples, units, Numerics::from_flags(numerics), &r, &err)) {
      set_error(err);
      return false;
    }
    auto list = [](const std::vector<int>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
      return s + "]";
    };
    char timing[160];
    std::snprintf(timing, sizeof timing, "\"timings\":{\"encoder_ms\":%.2f,\"decoder_ms\":%.2f}}", r.encoder_ms,
                  r.decoder_ms);
    g_string = "{\"start_ms\":" + list(r.start_ms) + ",\"end_ms\":" + list(r.end_ms) + ",\"classes\":" +
               list(r.classes) + ",\"audio_tokens\":" + std::to_string(r.audio_tokens) +
               ",\"input_tokens\":" + std::to_string(r.input_tokens) + "," + timing;
    return true;
  }, false);
  return ok ? g_string.c_str() : nullptr;
}

QASR_EXPORT int qasr_debug_mel(const float* pcm, int32_t n_samples, float* out, int32_t out_capacity,
                               int n_threads) {
  return guarded([&]() -> int {
    MelOptions mo;
    MelSpectrogram mel;
    ThreadPool pool(threads_or_default(n_threads));
    log_mel(pcm, n_samples, mo, &pool, &mel);
    if (static_cast<int64_t>(mel.data.size()) > out_capacity) return -1;
    std::copy(mel.data.begin(), mel.data.end(), out);
    return mel.n_frames;
  }, -1);
}

QASR_EXPORT int qasr_debug_encode(qasr_model* model, const float* pcm, int32_t n_samples, uint32_t numerics,
                                  float* out, int32_t out_capacity) {
  if (!model) return -1;
  return guarded([&]() -> int {
    const AudioConfig& a = model->m.file.audio;
    MelOptions mo;
    mo.n_fft = a.n_fft;
    mo.hop = a.hop_length;
    mo.n_mels = a.num_mel_bins;
    MelSpectrogram mel;
    log_mel(pcm, n_samples, mo, model->m.pool.get(), &mel);
    EncoderOutput enc;
    std::string err;
    if (!encode_audio(model->m, mel, Numerics::from_flags(numerics), &enc, &err)) {
      set_error(err);
      return -1;
    }
    if (static_cast<int64_t>(enc.data.size()) > out_capacity) {
      set_error("Output buffer too small");
      return -1;
    }
    std::copy(enc.data.begin(), enc.data.end(), out);
    return enc.tokens;
  }, -1);
}

QASR_EXPORT int qasr_debug_logits(qasr_model* model, const int32_t* ids, int n_ids, const float* audio,
                                  int n_audio, const int32_t* positions, int n_positions, uint32_t numerics,
                                  float* out) {
  if (!model || !ids || n_ids <= 0 || !positions || n_positions <= 0) {
    set_error("Invalid arguments");
    return QASR_ERROR;
  }
  return guarded([&]() -> int {
    Model& m = model->m;
    const int H = m.file.text.hidden_size;
    const Numerics nx = Numerics::from_flags(numerics);
    std::vector<int> v(ids, ids + n_ids);
    std::vector<float> x(static_cast<size_t>(n_ids) * H);
    embed_tokens(m, v.data(), n_ids, x.data());
    int a = 0;
    for (int i = 0; i < n_ids && a < n_audio; ++i)
      if (v[i] == m.file.ids.audio_pad) std::memcpy(&x[static_cast<size_t>(i) * H], audio + static_cast<size_t>(a++) * H, sizeof(float) * H);
    KvCache cache;
    std::string err;
    if (!cache.reserve(m, n_ids, &err) || !decoder_forward(m, x.data(), n_ids, &cache, nx, &err)) {
      set_error(err);
      return QASR_ERROR;
    }
    std::vector<float> rows(static_cast<size_t>(n_positions) * H);
    for (int p = 0; p < n_positions; ++p) {
      if (positions[p] < 0 || positions[p] >= n_ids) {
        set_error("Position out of range");
        return QASR_ERROR;
      }
      std::memcpy(&rows[static_cast<size_t>(p) * H], &x[static_cast<size_t>(positions[p]) * H], sizeof(float) * H);
    }
    decoder_head(m, rows.data(), n_positions, out, nx);
    return QASR_OK;
  }, QASR_ERROR);
}

QASR_EXPORT double qasr_debug_bandwidth(int mb, int reps, int n_threads) {
  return guarded([&]() -> double {
    const size_t n = static_cast<size_t>(std::max(1, mb)) * 1024 * 1024 / sizeof(float);
    std::vector<float> buf(n, 1.0f);
    ThreadPool pool(threads_or_default(n_threads));
    std::vector<float> sums(pool.size());
    double best = 0;
    for (int r = 0; r < std::max(1, reps); ++r) {
      const double t0 = now_ms();
      // Each thread reads its contiguous half of its range against the other half.
      pool.parallel_range(static_cast<int>(n / 1024), [&](int begin, int end, int thread) {
        const size_t b = static_cast<size_t>(begin) * 1024, len = static_cast<size_t>(end - begin) * 1024 / 2;
        sums[thread] += dot_f32(buf.data() + b, buf.data() + b + len, static_cast<int64_t>(len));
      });
      const double ms = now_ms() - t0;
      if (ms > 0) best = std::max(best, static_cast<double>(n * sizeof(float)) / (ms * 1e6));
    }
    volatile float sink = sums[0];
    (void)sink;
    return best;
  }, 0.0);
}

QASR_EXPORT int qasr_tokenize(const qasr_model* model, const char* text, int allow_added, int32_t* out, int capacity) {
  if (!model || !text) return -1;
  return guarded([&]() -> int {
    const std::vector<int> ids = model->m.tokenizer.encode(text, allow_added != 0);
    for (int i = 0; i < static_cast<int>(ids.size()) && i < capacity; ++i) out[i] = ids[i];
    return static_cast<int>(ids.size());
  }, -1);
}

QASR_EXPORT const char* qasr_detokenize(const qasr_model* model, const int32_t* ids, int n, int skip_special) {
  if (!model || (!ids && n > 0)) return "";
  g_string = guarded([&]() { return model->m.tokenizer.decode(std::vector<int>(ids, ids + n), skip_special != 0); },
                     std::string());
  return g_string.c_str();
}

}  // extern "C"
