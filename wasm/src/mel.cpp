// Log-mel spectrogram (research/qwen3-asr-official.md §2.2 and addendum 1 rules 2 and 5):
// periodic Hann 400, hop 160, centred frames with 200 reflected samples on each side, power
// spectrum over 201 bins, 128 Slaney mel filters (Slaney area normalisation, 0–8000 Hz),
// log10(max(x, 1e-10)), clamp to (global max − 8), then (x + 4) / 4. The last STFT frame is
// dropped, so T = floor(N / 160).
#include "mel.h"

#include <algorithm>
#include <cmath>
#include <complex>

#include "threadpool.h"

namespace qasr {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Slaney mel scale: linear below 1 kHz, logarithmic above.
double hz_to_mel(double f) {
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return f < min_log_hz ? f / f_sp : min_log_mel + std::log(f / min_log_hz) / logstep;
}
double mel_to_hz(double m) {
  const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return m < min_log_mel ? m * f_sp : min_log_hz * std::exp(logstep * (m - min_log_mel));
}

// Mixed-radix FFT for the fixed frame size: radix-2 splits down to an odd length, then a direct
// DFT. Twiddles are precomputed in double and stored as float.
class FrameFft {
 public:
  explicit FrameFft(int n) : n_(n), tw_(n) {
    for (int k = 0; k < n; ++k) tw_[k] = std::complex<float>(std::cos(-2 * kPi * k / n), std::sin(-2 * kPi * k / n));
  }
  // in: n real samples; out: n complex values. scratch sized 2n.
  void forward(const float* in, std::complex<float>* out, std::complex<float>* scratch) const {
    for (int i = 0; i < n_; ++i) scratch[i] = in[i];
    rec(scratch, out, n_, 1, scratch + n_);
  }

 private:
  // Transforms x (stride s, length len) into y (contiguous). tmp has room for len values.
  void rec(const std::complex<float>* x, std::complex<float>* y, int len, int s, std::complex<float>* tmp) const {
    if (len % 2 == 0) {
      const int h = len / 2;
      rec(x, tmp, h, 2 * s, y);           // evens → tmp[0..h)
      rec(x + s, tmp + h, h, 2 * s, y);   // odds → tmp[h..len)
      const int step = n_ / len;
      for (int k = 0; k < h; ++k) {
        const std::complex<float> t = tw_[k * step] * tmp[h + k];
        y[k] = tmp[k] + t;
        y[k + h] = tmp[k] - t;
      }
      return;
    }
    const int step = n_ / len;  // direct DFT of an odd length
    for (int k = 0; k < len; ++k) {
      std::complex<float> acc = 0;
      for (int j = 0; j < len; ++j) acc += x[j * s] * tw_[(j * k % len) * step];
      y[k] = acc;
    }
  }
  int n_;
  std::vector<std::complex<float>> tw_;
};

}  // namespace

std::vector<double> slaney_mel_filterbank(const MelOptions& opt) {
  const int n_bins = opt.n_fft / 2 + 1;
  const double fmax = opt.sample_rate / 2.0;
  std::vector<double> edges(opt.n_mels + 2);
  const double mmin = hz_to_mel(0.0), mmax = hz_to_mel(fmax);
  for (int i = 0; i < opt.n_mels + 2; ++i) edges[i] = mel_to_hz(mmin + (mmax - mmin) * i / (opt.n_mels + 1));
  std::vector<double> bank(static_cast<size_t>(opt.n_mels) * n_bins, 0.0);
  for (int m = 0; m < opt.n_mels; ++m) {
    const double lo = edges[m], mid = edges[m + 1], hi = edges[m + 2];
    const double norm = 2.0 / (hi - lo);
    for (int b = 0; b < n_bins; ++b) {
      const double f = fmax * b / (n_bins - 1);  // linspace(0, sr/2, n_bins)
      const double up = (f - lo) / (mid - lo), down = (hi - f) / (hi - mid);
      bank[static_cast<size_t>(m) * n_bins + b] = std::max(0.0, std::min(up, down)) * norm;
    }
  }
  return bank;
}

int mel_frame_count(int64_t n, const MelOptions& opt) {
  const int64_t padded = std::max<int64_t>(n, opt.min_samples);
  return static_cast<int>(padded / opt.hop);
}

void log_mel(const float* pcm, int64_t n, const MelOptions& opt, ThreadPool* pool, MelSpectrogram* out) {
  const int64_t len = std::max<int64_t>(n, opt.min_samples);
  const int half = opt.n_fft / 2;
  const int n_bins = opt.n_fft / 2 + 1;
  const int frames = static_cast<int>(len / opt.hop);
  out->n_mels = opt.n_mels;
  out->n_frames = frames;
  out->data.assign(static_cast<size_t>(opt.n_mels) * frames, 0.0f);
  if (frames == 0) return;

  // sample(i) of the zero-padded clip, with reflection (excluding the edge sample) at both ends.
  auto sample = [&](int64_t i) -> float {
    if (i < 0) i = -i;
    if (i >= len) i = 2 * (len - 1) - i;
    return (i >= 0 && i < n) ? pcm[i] : 0.0f;
  };

  std::vector<float> window(opt.n_fft);
  for (int i = 0; i < opt.n_fft; ++i) window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2 * kPi * i / opt.n_fft));
  // Sparse filterbank: each filter covers a contiguous run of bins.
  const std::vector<double> bank = slaney_mel_filterbank(opt);
  std::vector<int> first(opt.n_mels), last(opt.n_mels);
  std::vector<float> weights(bank.size());
  for (int m = 0; m < opt.n_mels; ++m) {
    first[m] = n_bins;
    last[m] = -1;
    for (int b = 0; b < n_bins; ++b) {
      weights[static_cast<size_t>(m) * n_bins + b] = static_cast<float>(bank[static_cast<size_t>(m) * n_bins + b]);
      if (bank[static_cast<size_t>(m) * n_bins + b] > 0) { first[m] = std::min(first[m], b); last[m] = b; }
    }
  }
  const FrameFft fft(opt.n_fft);
  const int n_threads = pool ? pool->size() : 1;
  std::vector<float> thread_max(n_threads, -1e30f);

  auto work = [&](int begin, int end, int thread) {
    std::vector<float> frame(opt.n_fft), power(n_bins);
    std::vector<std::complex<float>> spec(opt.n_fft), scratch(2 * opt.n_fft);
    float local_max = thread_max[thread];
    for (int t = begin; t < end; ++t) {
      const int64_t start = static_cast<int64_t>(t) * opt.hop - half;
      for (int i = 0; i < opt.n_fft; ++i) frame[i] = sample(start + i) * window[i];
      fft.forward(frame.data(), spec.data(), scratch.data());
      for (int b = 0; b < n_bins; ++b) power[b] = std::norm(spec[b]);
      for (int m = 0; m < opt.n_mels; ++m) {
        float acc = 0;
        for (int b = first[m]; b <= last[m]; ++b) acc += weights[static_cast<size_t>(m) * n_bins + b] * power[b];
        // logf · (1/ln 10), not log10f: musl's and glibc's log10f differ in the last bit, logf
        // does not, and the native and WASM builds must round alike (test_engine_tokens.cpp).
        const float v = std::log(std::max(acc, 1e-10f)) * 0.43429448190325182f;
        out->data[static_cast<size_t>(m) * frames + t] = v;
        local_max = std::max(local_max, v);
      }
    }
    thread_max[thread] = local_max;
  };
  if (pool) pool->parallel_range(frames, work); else work(0, frames, 0);

  const float floor_v = *std::max_element(thread_max.begin(), thread_max.end()) - 8.0f;
  for (float& v : out->data) v = (std::max(v, floor_v) + 4.0f) / 4.0f;
}

}  // namespace qasr
