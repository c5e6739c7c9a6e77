// The weights of one loaded model, arranged for computing: views of the file's tensors for the
// matrices, small owned f32 copies for norms and biases, the conv kernels widened to f32 and
// reordered for im2col (research/chatllm-qwen3-asr.md addendum: an f16 conv stem is the trap).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ggmm.h"
#include "kernels.h"
#include "threadpool.h"
#include "tokenizer.h"

namespace qasr {

struct Linear {
  WeightMatrix w;
  std::vector<float> bias;  // empty when the layer has no bias
  const float* b() const { return bias.empty() ? nullptr : bias.data(); }
};

struct Norm {
  std::vector<float> weight;
  std::vector<float> bias;  // empty for RMSNorm
};

struct EncoderLayer {
  Norm ln1, ln2;
  Linear q, k, v, o, fc0, fc1;
};

struct EncoderWeights {
  int channels = 0;  // downsample_hidden_size
  // conv1 [C][9]; conv2/conv3 reordered to [C_out][ky][kx][C_in] so an im2col row is contiguous.
  std::vector<float> conv1_w, conv1_b, conv2_w, conv2_b, conv3_w, conv3_b;
  // Fast path of quantised models only: conv2/conv3 as q8_0 rows of 9·C_in (the integer GEMM of the other matrices;
  // the f32 im2col GEMM was about half the encoder's time). Empty when 9·C_in % 32 != 0.
  std::vector<BlockQ8_0> conv2_q8, conv3_q8;
  Linear conv_out;
  std::vector<EncoderLayer> layers;
  Norm ln_post;
  Linear proj1, proj2;
  std::vector<float> positions;  // sinusoid table [rows_per_chunk][d_model]
};

struct DecoderLayer {
  Norm in_norm, post_norm, q_norm, k_norm;
  Linear q, k, v, o, gate, up, down;
};

struct DecoderWeights {
  WeightMatrix embed;
  std::vector<DecoderLayer> layers;
  Norm final_norm;
  Linear head;
  std::vector<double> rope_inv_freq;  // head_dim / 2, in double (angles reach thousands of radians)
};

struct Model {
  ~Model();
  uint8_t* buffer = nullptr;  // the file bytes (owned; freed with std::free)
  size_t buffer_size = 0;
  ModelFile file;
  Tokenizer tokenizer;
  EncoderWeights enc;
  DecoderWeights dec;
  std::unique_ptr<ThreadPool> pool;
  std::string info_json;
};

// Builds the computing layout from a parsed file. False + *error if a tensor cannot be used.
bool build_model(Model* m, std::string* error);

// Tokens produced by the encoder for T mel frames (research/qwen3-asr-official.md §2.3).
int audio_token_count(int mel_frames, int frames_per_chunk);

}  // namespace qasr
