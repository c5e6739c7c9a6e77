/**
 * Model shapes for the random-weight generator.
 *
 * `full-0.6b` and `aligner-full` are the exact shapes of the published
 * qwen3-asr-0.6b / qwen3-forced-aligner-0.6b checkpoints (HF config.json values).
 */

import type { QuantName } from './ggml-types';

export type ModelKind = 'asr' | 'aligner';

export interface ModelConfig {
  kind: ModelKind;
  /** written as "model_name" in the metadata */
  modelName: string;

  // ---- thinker_config.audio_config
  numMelBins: number;
  audioDModel: number;
  audioLayers: number;
  audioHeads: number;
  audioFfnDim: number;
  /** conv channels C; conv_out input = C * (mel bins after three stride-2 convs) */
  downsampleHiddenSize: number;
  /** projector output = LLM hidden size */
  audioOutputDim: number;
  nWindow: number;
  nWindowInfer: number;
  convChunksize: number;
  maxSourcePositions: number;

  // ---- thinker_config.text_config
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  rmsNormEps: number;

  /** aligner only: width of the timestamp-class head */
  classifyNum: number;
}

export interface Preset {
  config: ModelConfig;
  defaultQuant: QuantName;
}

const AUDIO_COMMON = {
  numMelBins: 128,
  nWindow: 50,
  nWindowInfer: 800,
  convChunksize: 500,
  maxSourcePositions: 1500,
} as const;

const TEXT_COMMON = {
  ropeTheta: 1_000_000,
  rmsNormEps: 1e-6,
} as const;

const tiny: ModelConfig = {
  kind: 'asr',
  modelName: 'Qwen3-ASR-tiny',
  ...AUDIO_COMMON,
  audioDModel: 128,
  audioLayers: 2,
  audioHeads: 2,
  audioFfnDim: 256,
  downsampleHiddenSize: 32,
  audioOutputDim: 128,
  ...TEXT_COMMON,
  hiddenSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 32,
  intermediateSize: 256,
  vocabSize: 151936,
  maxPositionEmbeddings: 65536,
  classifyNum: 0,
};

const full06b: ModelConfig = {
  kind: 'asr',
  modelName: 'Qwen3-ASR-0.6B',
  ...AUDIO_COMMON,
  audioDModel: 896,
  audioLayers: 18,
  audioHeads: 14,
  audioFfnDim: 3584,
  downsampleHiddenSize: 480,
  audioOutputDim: 1024,
  ...TEXT_COMMON,
  hiddenSize: 1024,
  numLayers: 28,
  numHeads: 16,
  numKvHeads: 8,
  headDim: 128,
  intermediateSize: 3072,
  vocabSize: 151936,
  maxPositionEmbeddings: 65536,
  classifyNum: 0,
};

const full17b: ModelConfig = {
  ...full06b,
  modelName: 'Qwen3-ASR-1.7B',
  audioDModel: 1024,
  audioLayers: 24,
  audioHeads: 16,
  audioFfnDim: 4096,
  audioOutputDim: 2048,
  hiddenSize: 2048,
  intermediateSize: 6144,
};

const alignerTiny: ModelConfig = {
  ...tiny,
  kind: 'aligner',
  modelName: 'Qwen3-ForcedAligner-tiny',
  vocabSize: 152064,
  maxPositionEmbeddings: 8192,
  classifyNum: 1000,
};

const alignerFull: ModelConfig = {
  kind: 'aligner',
  modelName: 'Qwen3-ForcedAligner-0.6B',
  ...AUDIO_COMMON,
  audioDModel: 1024,
  audioLayers: 24,
  audioHeads: 16,
  audioFfnDim: 4096,
  downsampleHiddenSize: 480,
  audioOutputDim: 1024,
  ...TEXT_COMMON,
  hiddenSize: 1024,
  numLayers: 28,
  numHeads: 16,
  numKvHeads: 8,
  headDim: 128,
  intermediateSize: 3072,
  vocabSize: 152064,
  maxPositionEmbeddings: 8192,
  classifyNum: 5000,
};

export const PRESETS = {
  tiny: { config: tiny, defaultQuant: 'q4_0' },
  'full-0.6b': { config: full06b, defaultQuant: 'q4_0' },
  'full-1.7b': { config: full17b, defaultQuant: 'q4_0' },
  'aligner-tiny': { config: alignerTiny, defaultQuant: 'q4_0' },
  'aligner-full': { config: alignerFull, defaultQuant: 'q4_0' },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Numeric fields that may be overridden (CLI: --kebab-case-name N). */
export const OVERRIDABLE_KEYS = [
  'numMelBins',
  'audioDModel',
  'audioLayers',
  'audioHeads',
  'audioFfnDim',
  'downsampleHiddenSize',
  'audioOutputDim',
  'nWindow',
  'nWindowInfer',
  'convChunksize',
  'maxSourcePositions',
  'hiddenSize',
  'numLayers',
  'numHeads',
  'numKvHeads',
  'headDim',
  'intermediateSize',
  'vocabSize',
  'maxPositionEmbeddings',
  'ropeTheta',
  'rmsNormEps',
  'classifyNum',
] as const satisfies readonly (keyof ModelConfig)[];

export type ConfigOverrides = Partial<Pick<ModelConfig, (typeof OVERRIDABLE_KEYS)[number] | 'modelName'>>;

/** Highest token id the metadata refers to (`<timestamp>`). */
export const MAX_SPECIAL_ID = 151705;

/** Mel bins left after the three stride-2, pad-1, kernel-3 convolutions. */
export function convOutFreq(numMelBins: number): number {
  let f = numMelBins;
  for (let i = 0; i < 3; i++) f = Math.floor((f - 1) / 2) + 1;
  return f;
}

export function resolveConfig(preset: PresetName | ModelConfig, overrides: ConfigOverrides = {}): ModelConfig {
  const base: ModelConfig = typeof preset === 'string' ? getPreset(preset).config : preset;
  const cfg: ModelConfig = { ...base, ...overrides };
  validateConfig(cfg);
  return cfg;
}

export function getPreset(name: string): Preset {
  const p = (PRESETS as Record<string, Preset>)[name];
  if (!p) throw new Error(`unknown preset "${name}" (known: ${PRESET_NAMES.join(', ')})`);
  return p;
}

export function validateConfig(c: ModelConfig): void {
  const positive: (keyof ModelConfig)[] = [
    'numMelBins', 'audioDModel', 'audioLayers', 'audioHeads', 'audioFfnDim', 'downsampleHiddenSize',
    'audioOutputDim', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize',
    'vocabSize', 'maxPositionEmbeddings',
  ];
  for (const k of positive) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`config.${k} must be a positive integer (got ${v})`);
  }
  if (c.audioDModel % c.audioHeads !== 0) throw new Error(`audioDModel ${c.audioDModel} not divisible by audioHeads ${c.audioHeads}`);
  if (c.numHeads % c.numKvHeads !== 0) throw new Error(`numHeads ${c.numHeads} not divisible by numKvHeads ${c.numKvHeads}`);
  if (c.audioOutputDim !== c.hiddenSize) {
    throw new Error(`audioOutputDim (${c.audioOutputDim}) must equal hiddenSize (${c.hiddenSize}): audio features are LLM embeddings`);
  }
  if (c.vocabSize <= MAX_SPECIAL_ID) throw new Error(`vocabSize ${c.vocabSize} must exceed the special-token ids (> ${MAX_SPECIAL_ID})`);
  if (c.audioLayers > 128 || c.numLayers > 128) throw new Error('at most 128 layers (layer_is_sparse[128] in the config struct)');
  if (c.kind === 'aligner') {
    if (!Number.isInteger(c.classifyNum) || c.classifyNum <= 0) throw new Error('aligner needs classifyNum > 0');
  }
}

/**
 * rope_scaling.mrope_section: [24, 20, 20] for the published head_dim 128 (sums to head_dim / 2);
 * scaled in the same proportions for other head dims (never used at run time by chatllm).
 */
export function mropeSection(headDim: number): number[] {
  if (headDim === 128) return [24, 20, 20];
  const half = Math.floor(headDim / 2);
  const a = Math.round((half * 24) / 64);
  const b = Math.round((half - a) / 2);
  return [a, b, half - a - b];
}
