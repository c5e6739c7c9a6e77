/**
 * The tensor list of a chatllm.cpp Qwen3-ASR / ForcedAligner file for a given config:
 * names (after chatllm's renaming), PyTorch-order shapes, storage type and how the
 * random values are drawn.
 */

import { GgmlType, QUANT_TYPE, tensorBytes, type QuantName } from './ggml-types';
import { convOutFreq, type ModelConfig } from './presets';

/** How a tensor's values are drawn. */
export type InitSpec =
  /** N(0, std^2) */
  | { kind: 'normal'; std: number }
  /** 1 + U(-spread, spread): norm gains */
  | { kind: 'ones'; spread: number }
  /** U(-spread, spread): biases */
  | { kind: 'uniform'; spread: number };

export interface TensorSpec {
  name: string;
  /** PyTorch order (outermost first); the last dim is contiguous */
  shape: number[];
  type: GgmlType;
  init: InitSpec;
}

/**
 * Weight-scale choices (see README notes in index.ts):
 * - linear "input" projections (q/k/v, fc0, gate/up, proj1/proj2, conv_out): N(0, 1/fan_in)
 * - "output" projections that write into the residual stream (o_proj, audio fc1, down_proj):
 *   N(0, 1/fan_in) * 1/sqrt(2 * layers), so the pre-norm residual stream grows slowly with depth
 * - convs: N(0, 2/(C_in * 9)) (He gain: each conv is followed by GELU)
 * - biases (linear, conv, LayerNorm): U(-0.02, 0.02)
 * - LayerNorm / RMSNorm / q_norm / k_norm gains: 1 + U(-0.1, 0.1)
 * - embed_tokens: N(0, 0.02^2) (HF initializer_range)
 * - lm_head / aligner head: N(0, LOGIT_GAIN^2 / H): the final RMSNorm gives unit-RMS inputs,
 *   so logits have a standard deviation of about LOGIT_GAIN
 */
export const INIT_SCALES = {
  biasSpread: 0.02,
  normSpread: 0.1,
  embedStd: 0.02,
  logitGain: 2.0,
  convGain: Math.SQRT2,
} as const;

/** chatllm convert.py rule: 1-D -> f32; otherwise the requested type if the last dim is a multiple of 32, else f16. */
export function chooseType(shape: readonly number[], quant: QuantName): GgmlType {
  if (shape.length === 1) return GgmlType.F32;
  const last = shape[shape.length - 1];
  return last % 32 === 0 ? QUANT_TYPE[quant] : GgmlType.F16;
}

export function numElements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function specBytes(t: TensorSpec): number {
  return tensorBytes(t.type, numElements(t.shape));
}

export function listTensors(c: ModelConfig, quant: QuantName): TensorSpec[] {
  const out: TensorSpec[] = [];
  const add = (name: string, shape: number[], init: InitSpec) => {
    out.push({ name, shape, type: chooseType(shape, quant), init });
  };
  const linear = (fanIn: number, gain = 1): InitSpec => ({ kind: 'normal', std: gain / Math.sqrt(fanIn) });
  const bias: InitSpec = { kind: 'uniform', spread: INIT_SCALES.biasSpread };
  const gainInit: InitSpec = { kind: 'ones', spread: INIT_SCALES.normSpread };

  // ---- audio encoder (HF audio_tower.* -> audio.*)
  const d = c.audioDModel;
  const C = c.downsampleHiddenSize;
  const F = c.audioFfnDim;
  add('audio.conv2d1.weight', [C, 1, 3, 3], linear(1 * 9, INIT_SCALES.convGain));
  add('audio.conv2d1.bias', [C], bias);
  add('audio.conv2d2.weight', [C, C, 3, 3], linear(C * 9, INIT_SCALES.convGain));
  add('audio.conv2d2.bias', [C], bias);
  add('audio.conv2d3.weight', [C, C, 3, 3], linear(C * 9, INIT_SCALES.convGain));
  add('audio.conv2d3.bias', [C], bias);
  const convOutIn = C * convOutFreq(c.numMelBins);
  add('audio.conv_out.weight', [d, convOutIn], linear(convOutIn));

  const audioOutGain = 1 / Math.sqrt(2 * c.audioLayers);
  for (let i = 0; i < c.audioLayers; i++) {
    const p = `audio.layers.${i}.`;
    add(`${p}input_layernorm.weight`, [d], gainInit);
    add(`${p}input_layernorm.bias`, [d], bias);
    for (const proj of ['q_proj', 'k_proj', 'v_proj'] as const) {
      add(`${p}self_attn.${proj}.weight`, [d, d], linear(d));
      add(`${p}self_attn.${proj}.bias`, [d], bias);
    }
    add(`${p}self_attn.o_proj.weight`, [d, d], linear(d, audioOutGain));
    add(`${p}self_attn.o_proj.bias`, [d], bias);
    add(`${p}post_attention_layernorm.weight`, [d], gainInit);
    add(`${p}post_attention_layernorm.bias`, [d], bias);
    add(`${p}mlp.fc0.weight`, [F, d], linear(d));
    add(`${p}mlp.fc0.bias`, [F], bias);
    add(`${p}mlp.fc1.weight`, [d, F], linear(F, audioOutGain));
    add(`${p}mlp.fc1.bias`, [d], bias);
  }
  add('audio.ln_post.weight', [d], gainInit);
  add('audio.ln_post.bias', [d], bias);

  // ---- projector (HF audio_tower.proj1/proj2)
  add('multi_modal_projector.proj1.weight', [d, d], linear(d));
  add('multi_modal_projector.proj1.bias', [d], bias);
  add('multi_modal_projector.proj2.weight', [c.audioOutputDim, d], linear(d));
  add('multi_modal_projector.proj2.bias', [c.audioOutputDim], bias);

  // ---- Qwen3 decoder (no biases)
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const textOutGain = 1 / Math.sqrt(2 * c.numLayers);
  add('model.embed_tokens.weight', [c.vocabSize, H], { kind: 'normal', std: INIT_SCALES.embedStd });
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    add(`${p}input_layernorm.weight`, [H], gainInit);
    add(`${p}self_attn.q_proj.weight`, [qDim, H], linear(H));
    add(`${p}self_attn.k_proj.weight`, [kvDim, H], linear(H));
    add(`${p}self_attn.v_proj.weight`, [kvDim, H], linear(H));
    add(`${p}self_attn.o_proj.weight`, [H, qDim], linear(qDim, textOutGain));
    add(`${p}self_attn.q_norm.weight`, [c.headDim], gainInit);
    add(`${p}self_attn.k_norm.weight`, [c.headDim], gainInit);
    add(`${p}post_attention_layernorm.weight`, [H], gainInit);
    add(`${p}mlp.gate_proj.weight`, [I, H], linear(H));
    add(`${p}mlp.up_proj.weight`, [I, H], linear(H));
    add(`${p}mlp.down_proj.weight`, [H, I], linear(I, textOutGain));
  }
  add('model.norm.weight', [H], gainInit);
  const headRows = c.kind === 'aligner' ? c.classifyNum : c.vocabSize;
  add('lm_head.weight', [headRows, H], linear(H, INIT_SCALES.logitGain));
  return out;
}
