// Audio encoder ("AuT"): conv stem per 1 s chunk, sinusoidal positions restarted per chunk,
// pre-LN transformer with block-diagonal 8 s windows, projector (research/qwen3-asr-official.md §3
// and addendum 1 rules 1 and 3).
#pragma once
#include <vector>

#include "mel.h"
#include "model.h"
#include "numerics.h"

namespace qasr {

struct EncoderOutput {
  int tokens = 0;
  int dim = 0;              // output_dim (the LLM hidden size)
  std::vector<float> data;  // [tokens][dim]
};

// Encodes a log-mel spectrogram. Returns false (with *error) only on impossible sizes.
bool encode_audio(const Model& m, const MelSpectrogram& mel, const Numerics& nx, EncoderOutput* out,
                  std::string* error);

}  // namespace qasr
