// Qwen3-ForcedAligner: one non-autoregressive pass over <|audio_start|> audio <|audio_end|> followed
// by every unit and a <timestamp><timestamp> slot pair; the class (× timestamp_segment_time) read
// at each slot's own position, then repaired to a non-decreasing sequence
// (research/qwen3-asr-official.md §5.2, §5.4 and addendum 2).
#pragma once
#include <string>
#include <vector>

#include "model.h"
#include "numerics.h"

namespace qasr {

struct AlignResult {
  std::vector<int> start_ms, end_ms;  // one per unit
  std::vector<int> classes;           // raw arg-max class per slot (2 per unit)
  int audio_tokens = 0;
  int input_tokens = 0;
  double encoder_ms = 0, decoder_ms = 0;
};

// Units are the aligner's text units (CJK characters, other words), NFC-normalised by the caller.
// An empty list is valid (one slot pair is still run; the result is empty).
bool align_units(Model* m, const float* pcm, int64_t n, const std::vector<std::string>& units,
                 const Numerics& nx, AlignResult* out, std::string* error);

// Repairs a timestamp sequence to be non-decreasing: longest non-decreasing subsequence kept,
// runs of up to 2 others copy the nearer kept neighbour (left on ties), longer runs are
// interpolated, then values are truncated to whole milliseconds (§5.4 + addendum 2 rule 3).
std::vector<double> fix_timestamps(const std::vector<double>& values);

}  // namespace qasr
