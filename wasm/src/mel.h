// Log-mel front end of Qwen3-ASR: Whisper's feature extractor with 128 Slaney bins
// (research/qwen3-asr-official.md §2.2, with addendum 1 rule 2: clips under 0.5 s are
// zero-padded to 8000 samples and the padding counts as audio).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace qasr {

class ThreadPool;

struct MelOptions {
  int sample_rate = 16000;
  int n_fft = 400;
  int hop = 160;
  int n_mels = 128;
  int64_t min_samples = 8000;  // shorter clips are zero-padded to this length (0 disables)
};

struct MelSpectrogram {
  int n_mels = 0;
  int n_frames = 0;         // T = floor(N / hop) after the short-clip padding
  std::vector<float> data;  // [n_mels][n_frames], mel-major
  float at(int mel, int frame) const { return data[static_cast<size_t>(mel) * n_frames + frame]; }
};

// Computes the normalised log-mel of 16 kHz mono PCM. n may be 0 (then the clip is all padding).
// Threads split the frames; the result does not depend on the thread count.
void log_mel(const float* pcm, int64_t n, const MelOptions& opt, ThreadPool* pool, MelSpectrogram* out);

// Number of frames log_mel produces for n samples.
int mel_frame_count(int64_t n, const MelOptions& opt);

// The Slaney-scale, Slaney-normalised filterbank, [n_mels][n_fft/2 + 1], built in double.
std::vector<double> slaney_mel_filterbank(const MelOptions& opt);

}  // namespace qasr
