// ASR session (research/qwen3-asr-official.md §4.1–4.4 and addendum 1 point 6).
#include "asr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "json.h"
#include "mel.h"
#include "unicode.h"

namespace qasr {

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

namespace {

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<uint32_t> utf8_to_codepoints(const std::string& s) {
  std::vector<uint32_t> out;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s.data());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    i += utf8_decode(p + i, s.size() - i, &cp);
    out.push_back(cp);
  }
  return out;
}

std::string codepoints_to_utf8(const std::vector<uint32_t>& cps) {
  std::string out;
  for (uint32_t cp : cps) utf8_append(cp, &out);
  return out;
}

void append(std::vector<int>* ids, const std::vector<int>& more) { ids->insert(ids->end(), more.begin(), more.end()); }

// Rounds audio features through the embedding's storage type (chatllm.cpp, research note §3.7).
void audio_quant_round_trip(GgmlType type, float* row, int n) {
  std::vector<uint8_t> buf(row_bytes(type == GgmlType::BF16 ? GgmlType::F16 : type, n));
  switch (type) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_0_X4:  // the same q4_0 blocks, packed in memory
    case GgmlType::Q4_1:  // ggml has no q4_1 reference here; q4_0 is the published files' type
      quantize_row_q4_0_ref(row, reinterpret_cast<BlockQ4_0*>(buf.data()), n);
      dequantize_row(GgmlType::Q4_0, buf.data(), row, n);
      break;
    case GgmlType::Q8_0:
      quantize_row_q8_0_ref(row, reinterpret_cast<BlockQ8_0*>(buf.data()), n);
      dequantize_row(GgmlType::Q8_0, buf.data(), row, n);
      break;
    case GgmlType::F16:
    case GgmlType::BF16:
      for (int i = 0; i < n; ++i) row[i] = fp16_to_f32(f32_to_fp16(row[i]));
      break;
    case GgmlType::F32:
      break;
  }
}

}  // namespace

std::string canonical_language(const ModelFile& f, const std::string& name) {
  const std::string want = lower_ascii(trim(name));
  if (want.empty()) return "";
  for (const std::string& l : f.languages)
    if (lower_ascii(l) == want) return l;
  return "";
}

std::vector<int> build_asr_prompt(const Model& m, int audio_tokens, const std::string& context,
                                  const std::string& language) {
  const Tokenizer& tok = m.tokenizer;
  const SpecialIds& s = m.file.ids;
  std::vector<int> ids;
  ids.push_back(s.im_start);
  append(&ids, tok.encode("system\n" + context, false));
  ids.push_back(s.im_end);
  append(&ids, tok.encode("\n", false));
  ids.push_back(s.im_start);
  append(&ids, tok.encode("user\n", false));
  ids.push_back(s.audio_start);
  ids.insert(ids.end(), audio_tokens, s.audio_pad);
  ids.push_back(s.audio_end);
  ids.push_back(s.im_end);
  append(&ids, tok.encode("\n", false));
  ids.push_back(s.im_start);
  append(&ids, tok.encode("assistant\n", false));
  if (!language.empty()) {
    append(&ids, tok.encode("language " + language, false));
    ids.push_back(s.asr_text);
  }
  return ids;
}

std::string repair_repetitions(const std::string& text, int threshold) {
  std::vector<uint32_t> s = utf8_to_codepoints(text);
  // (a) a run of one character longer than the threshold becomes one character
  std::vector<uint32_t> a;
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    while (j < s.size() && s[j] == s[i]) ++j;
    if (j - i > static_cast<size_t>(threshold)) a.push_back(s[i]);
    else a.insert(a.end(), s.begin() + i, s.begin() + j);
    i = j;
  }
  // (b) the first pattern of ≤ threshold characters repeated `threshold` times keeps one copy;
  //     the rest of the string is handled the same way.
  const size_t t = static_cast<size_t>(threshold);
  std::vector<uint32_t> out;
  size_t i = 0;
  while (a.size() >= 2 * t && i + 2 * t <= a.size()) {
    bool found = false;
    for (size_t k = 1; k <= t && i + k * t <= a.size(); ++k) {
      bool same = true;
      for (size_t rep = 1; rep < t && same; ++rep)
        same = std::equal(a.begin() + i, a.begin() + i + k, a.begin() + i + rep * k);
      if (!same) continue;
      out.insert(out.end(), a.begin() + i, a.begin() + i + k);
      size_t j = i + t * k;
      while (j + k <= a.size() && std::equal(a.begin() + i, a.begin() + i + k, a.begin() + j)) j += k;
      a.erase(a.begin(), a.begin() + j);
      i = 0;
      found = true;
      break;
    }
    if (!found) out.push_back(a[i++]);
  }
  out.insert(out.end(), a.begin() + std::min(i, a.size()), a.end());
  return codepoints_to_utf8(out);
}

AsrParsed parse_asr_output(const std::string& raw, const std::string& forced_language) {
  AsrParsed p;
  const std::string text = repair_repetitions(trim(raw));
  if (!forced_language.empty()) {
    p.language = forced_language;
    p.text = text;
    return p;
  }
  const std::string tag = "<asr_text>";
  const size_t at = text.find(tag);
  if (at == std::string::npos) {
    p.text = text;
    return p;
  }
  const std::string meta = text.substr(0, at);
  p.text = trim(text.substr(at + tag.size()));
  if (lower_ascii(meta).find("language none") != std::string::npos) {
    p.language = "";
    return p;
  }
  size_t start = 0;
  while (start <= meta.size()) {
    size_t end = meta.find('\n', start);
    if (end == std::string::npos) end = meta.size();
    const std::string line = trim(meta.substr(start, end - start));
    if (lower_ascii(line).rfind("language ", 0) == 0) {
      std::string name = trim(line.substr(9));
      if (!name.empty()) {
        name = lower_ascii(name);
        name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
        p.language = name;
      }
      break;
    }
    start = end + 1;
  }
  return p;
}

size_t repetition_tail(const std::vector<int>& ids) {
  // A period of p tokens repeated at least max(4, ceil(24/p)) times at the end is a loop:
  // 24 identical tokens, 12 repeats of a pair, 4 repeats of an 8-token phrase.
  const size_t n = ids.size();
  for (size_t p = 1; p <= 32 && p * 4 <= n; ++p) {
    const size_t need = std::max<size_t>(4, (24 + p - 1) / p);
    if (p * need > n) continue;
    size_t reps = 1;
    while ((reps + 1) * p <= n &&
           std::equal(ids.end() - p, ids.end(), ids.end() - (reps + 1) * p))
      ++reps;
    if (reps >= need) return (reps - 1) * p;  // keep one copy
  }
  return 0;
}

bool AsrSession::start(Model* m, const float* pcm, int64_t n, const AsrOptions& opt, std::string* error) {
  m_ = m;
  opt_ = opt;
  const ModelFile& f = m->file;
  if (f.is_aligner()) {
    *error = "This is a ForcedAligner model; load a Qwen3-ASR model to transcribe";
    return false;
  }
  if (!opt.language.empty()) {
    const std::string canon = canonical_language(f, opt.language);
    if (canon.empty()) {
      *error = "Language '" + opt.language + "' is not supported by this model";
      return false;
    }
    opt_.language = canon;
  }
  audio_sec_ = static_cast<double>(n) / f.audio.sampling_rate;
  double t0 = now_ms();
  MelOptions mo;
  mo.n_fft = f.audio.n_fft;
  mo.hop = f.audio.hop_length;
  mo.n_mels = f.audio.num_mel_bins;
  mo.sample_rate = f.audio.sampling_rate;
  MelSpectrogram mel;
  log_mel(pcm, n, mo, m->pool.get(), &mel);
  double t1 = now_ms();
  mel_ms_ = t1 - t0;
  EncoderOutput enc;
  if (!encode_audio(*m, mel, opt_.numerics, &enc, error)) return false;
  double t2 = now_ms();
  encoder_ms_ = t2 - t1;
  audio_tokens_ = enc.tokens;

  prompt_ = build_asr_prompt(*m, enc.tokens, opt_.context, opt_.language);
  const int H = f.text.hidden_size;
  if (enc.dim != H) {
    *error = "The encoder output width does not match the decoder";
    return false;
  }
  max_new_ = opt.max_new_tokens > 0 ? opt.max_new_tokens : 32 + static_cast<int>(std::ceil(audio_sec_ * 15.0));
  const int capacity = static_cast<int>(prompt_.size()) + max_new_ + 1;
  if (!cache_.reserve(*m, capacity, error)) return false;

  const int L = static_cast<int>(prompt_.size());
  std::vector<float> x(static_cast<size_t>(L) * H);
  embed_tokens(*m, prompt_.data(), L, x.data());
  int a = 0;
  for (int i = 0; i < L && a < enc.tokens; ++i) {
    if (prompt_[i] != f.ids.audio_pad) continue;
    float* row = x.data() + static_cast<size_t>(i) * H;
    std::memcpy(row, enc.data.data() + static_cast<size_t>(a++) * H, sizeof(float) * H);
    if (opt_.numerics.audio_quant) audio_quant_round_trip(m->dec.embed.type, row, H);
  }
  const std::vector<int> last_row = {L - 1};  // only its logits are needed
  if (!decoder_forward(*m, x.data(), L, &cache_, opt_.numerics, error, &last_row)) return false;
  hidden_.assign(x.end() - H, x.end());
  logits_.resize(static_cast<size_t>(f.text.head_rows));
  decoder_head(*m, hidden_.data(), 1, logits_.data(), opt_.numerics);
  candidate_ = static_cast<int>(std::max_element(logits_.begin(), logits_.end()) - logits_.begin());
  prefill_ms_ = now_ms() - t2;
  return true;
}

bool AsrSession::step_logits() {
  const int H = m_->file.text.hidden_size;
  hidden_.resize(H);
  embed_tokens(*m_, &generated_.back(), 1, hidden_.data());
  if (!decoder_forward(*m_, hidden_.data(), 1, &cache_, opt_.numerics, &error_)) return false;
  decoder_head(*m_, hidden_.data(), 1, logits_.data(), opt_.numerics);
  candidate_ = static_cast<int>(std::max_element(logits_.begin(), logits_.end()) - logits_.begin());
  return true;
}

int AsrSession::next() {
  if (done_ || !m_) return -1;
  const double t0 = now_ms();
  const int tok = candidate_;
  const SpecialIds& s = m_->file.ids;
  if ((tok == s.im_end || tok == s.endoftext) && !opt_.ignore_eos) {
    done_ = true;
    pending_text_ += utf8_.flush();
    return -1;
  }
  generated_.push_back(tok);
  if (!m_->tokenizer.is_special(tok)) pending_text_ += utf8_.push(m_->tokenizer.token_bytes(tok));
  if (opt_.repetition_guard) {
    const size_t cut = repetition_tail(generated_);
    if (cut > 0) {
      generated_.resize(generated_.size() - cut);
      stopped_by_guard_ = true;
      done_ = true;
      pending_text_ += utf8_.flush();
      decode_ms_ += now_ms() - t0;
      return tok;
    }
  }
  if (static_cast<int>(generated_.size()) >= max_new_) {
    done_ = true;
    pending_text_ += utf8_.flush();
  } else if (!step_logits()) {
    done_ = true;
    return -2;
  }
  decode_ms_ += now_ms() - t0;
  return tok;
}

std::string AsrSession::take_text() {
  std::string out;
  out.swap(pending_text_);
  return out;
}

std::string AsrSession::result_json() const {
  const std::string raw = m_ ? m_->tokenizer.decode(generated_, true) : "";
  const AsrParsed p = parse_asr_output(raw, opt_.language);
  std::string j = "{\"language\":" + json_quote(p.language) + ",\"text\":" + json_quote(p.text) +
                  ",\"raw\":" + json_quote(raw) + ",\"tokens\":[";
  for (size_t i = 0; i < generated_.size(); ++i) j += (i ? "," : "") + std::to_string(generated_[i]);
  char timing[512];
  std::snprintf(timing, sizeof timing,
                "],\"audio_tokens\":%d,\"prompt_tokens\":%d,\"audio_sec\":%.3f,\"stopped_by_repetition_guard\":%s,"
                "\"timings\":{\"mel_ms\":%.2f,\"encoder_ms\":%.2f,\"prefill_ms\":%.2f,\"decode_ms\":%.2f,"
                "\"decode_tokens\":%d}}",
                audio_tokens_, static_cast<int>(prompt_.size()), audio_sec_, stopped_by_guard_ ? "true" : "false",
                mel_ms_, encoder_ms_, prefill_ms_, decode_ms_, static_cast<int>(generated_.size()));
  return j + timing;
}

}  // namespace qasr
