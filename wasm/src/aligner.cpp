// ForcedAligner forward pass and timestamp repair (research/qwen3-asr-official.md §5, addendum 2).
#include "aligner.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "asr.h"
#include "decoder.h"
#include "encoder.h"
#include "mel.h"

namespace qasr {

std::vector<double> fix_timestamps(const std::vector<double>& v) {
  const int n = static_cast<int>(v.size());
  std::vector<double> out(v);
  if (n == 0) return out;
  // (a) longest non-decreasing subsequence; ties keep the earliest predecessor and the first end.
  std::vector<int> dp(n, 1), parent(n, -1);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < i; ++j)
      if (v[j] <= v[i] && dp[j] + 1 > dp[i]) {
        dp[i] = dp[j] + 1;
        parent[i] = j;
      }
  int end = 0;
  for (int i = 1; i < n; ++i)
    if (dp[i] > dp[end]) end = i;
  std::vector<bool> normal(n, false);
  for (int i = end; i >= 0; i = parent[i]) normal[i] = true;
  // (b) repair each run [i, j) of abnormal values.
  for (int i = 0; i < n;) {
    if (normal[i]) { ++i; continue; }
    int j = i;
    while (j < n && !normal[j]) ++j;
    const int m = j - i;
    const bool has_left = i > 0, has_right = j < n;
    const double left = has_left ? v[i - 1] : 0, right = has_right ? v[j] : 0;
    for (int k = i; k < j; ++k) {
      if (has_left && has_right) {
        if (m <= 2) {
          out[k] = (k - (i - 1) <= j - k) ? left : right;
        } else {
          const double step = (right - left) / (m + 1);
          out[k] = left + step * (k - i + 1);
        }
      } else {
        out[k] = has_left ? left : right;
      }
    }
    i = j;
  }
  // (c) whole milliseconds, truncated toward zero.
  for (double& x : out) x = std::trunc(x);
  return out;
}

bool align_units(Model* m, const float* pcm, int64_t n, const std::vector<std::string>& units,
                 const Numerics& nx, AlignResult* out, std::string* error) {
  const ModelFile& f = m->file;
  if (!f.is_aligner()) {
    *error = "This is a speech recognition model; word timestamps need the Qwen3-ForcedAligner model";
    return false;
  }
  const int classes = f.text.head_rows;
  const double max_sec = static_cast<double>(classes) * f.timestamp_segment_ms / 1000.0;
  if (static_cast<double>(n) / f.audio.sampling_rate > max_sec) {
    *error = "The audio is longer than the aligner's range";
    return false;
  }
  const double t0 = now_ms();
  MelOptions mo;
  mo.n_fft = f.audio.n_fft;
  mo.hop = f.audio.hop_length;
  mo.n_mels = f.audio.num_mel_bins;
  mo.sample_rate = f.audio.sampling_rate;
  MelSpectrogram mel;
  log_mel(pcm, n, mo, m->pool.get(), &mel);
  EncoderOutput enc;
  if (!encode_audio(*m, mel, nx, &enc, error)) return false;
  const double t1 = now_ms();

  // No chat template: audio, then each unit followed by a slot pair; an empty text still gets
  // one pair (addendum 2 rule 1).
  const SpecialIds& s = f.ids;
  std::vector<int> ids;
  ids.push_back(s.audio_start);
  ids.insert(ids.end(), enc.tokens, s.audio_pad);
  ids.push_back(s.audio_end);
  for (const std::string& u : units) {
    const std::vector<int> t = m->tokenizer.encode(u, false);
    ids.insert(ids.end(), t.begin(), t.end());
    ids.push_back(s.timestamp);
    ids.push_back(s.timestamp);
  }
  if (units.empty()) {
    ids.push_back(s.timestamp);
    ids.push_back(s.timestamp);
  }
  const int L = static_cast<int>(ids.size());
  const int H = f.text.hidden_size;
  if (enc.dim != H) {
    *error = "The encoder output width does not match the decoder";
    return false;
  }
  std::vector<float> x(static_cast<size_t>(L) * H);
  embed_tokens(*m, ids.data(), L, x.data());
  for (int i = 0, a = 0; i < L && a < enc.tokens; ++i)
    if (ids[i] == s.audio_pad) std::memcpy(&x[static_cast<size_t>(i) * H], &enc.data[static_cast<size_t>(a++) * H], sizeof(float) * H);
  // Logits at the slot positions themselves (no shift, addendum 2 rule 8): only those rows are
  // finished by the decoder's last layer.
  std::vector<int> slots;
  for (int i = 0; i < L; ++i)
    if (ids[i] == s.timestamp) slots.push_back(i);
  KvCache cache;
  if (!cache.reserve(*m, L, error) || !decoder_forward(*m, x.data(), L, &cache, nx, error, &slots)) return false;

  std::vector<float> rows(slots.size() * H), logits(slots.size() * classes);
  for (size_t k = 0; k < slots.size(); ++k)
    std::memcpy(&rows[k * H], &x[static_cast<size_t>(slots[k]) * H], sizeof(float) * H);
  decoder_head(*m, rows.data(), static_cast<int>(slots.size()), logits.data(), nx);
  std::vector<double> ms(slots.size());
  out->classes.resize(slots.size());
  for (size_t k = 0; k < slots.size(); ++k) {
    const float* l = &logits[k * classes];
    const int c = static_cast<int>(std::max_element(l, l + classes) - l);
    out->classes[k] = c;
    ms[k] = static_cast<double>(c) * f.timestamp_segment_ms;
  }
  const std::vector<double> fixed = fix_timestamps(ms);
  out->start_ms.clear();
  out->end_ms.clear();
  for (size_t u = 0; u < units.size(); ++u) {
    out->start_ms.push_back(static_cast<int>(fixed[2 * u]));
    out->end_ms.push_back(static_cast<int>(fixed[2 * u + 1]));
  }
  out->audio_tokens = enc.tokens;
  out->input_tokens = L;
  out->encoder_ms = t1 - t0;
  out->decoder_ms = now_ms() - t1;
  return true;
}

}  // namespace qasr
