/**
 * The JSON metadata blob of a GGMM file: a dict keyed by HF file name, as built by
 * chatllm's convert.py (`config.json`, `tokenizer_config.json`, `preprocessor_config.json`,
 * `model_name`), serialised like Python's `json.dumps(obj, ensure_ascii=False)`.
 */

import { mropeSection, type ModelConfig } from './presets';
import { loadQwenVocab } from './qwen-vocab';

// ---------------------------------------------------------------------------
// Python-compatible JSON serialisation

/** Marks a number that Python holds as a float (so 0 prints as 0.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python `repr(float)`: shortest round-trip digits; scientific when exp < -4 or exp >= 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

/** `json.dumps(value, ensure_ascii=False)` with the default ", " and ": " separators. */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isInteger(value) && Math.abs(value) < 2 ** 53 ? String(value) : pyFloatRepr(value);
    case 'string':
      return pyString(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
      const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyString(k)}: ${pyJsonDumps(v)}`);
      return `{${parts.join(', ')}}`;
    }
    default:
      throw new Error(`cannot serialise ${typeof value}`);
  }
}

function pyString(s: string): string {
  // Python escapes: \" \\ \n \r \t \b \f, other C0 controls as \u00XX; non-ASCII kept (ensure_ascii=False)
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

// ---------------------------------------------------------------------------
// Token ids, languages

export const SPECIAL_IDS = {
  endoftext: 151643,
  imStart: 151644,
  imEnd: 151645,
  audioStart: 151669,
  audioEnd: 151670,
  nonSpeech: 151675,
  audioPad: 151676,
  asrText: 151704,
  timestamp: 151705,
} as const;

export const ASR_LANGUAGES = [
  'Chinese', 'English', 'Cantonese', 'Arabic', 'German', 'French', 'Spanish', 'Portuguese', 'Indonesian',
  'Italian', 'Korean', 'Russian', 'Thai', 'Vietnamese', 'Japanese', 'Turkish', 'Hindi', 'Malay', 'Dutch',
  'Swedish', 'Danish', 'Finnish', 'Polish', 'Czech', 'Filipino', 'Persian', 'Greek', 'Romanian', 'Hungarian',
  'Macedonian',
] as const;

/** In the order of the published aligner config.json. */
export const ALIGNER_LANGUAGES = [
  'Chinese', 'Cantonese', 'English', 'German', 'Spanish', 'French', 'Italian', 'Portuguese', 'Russian', 'Korean',
  'Japanese',
] as const;

/** The added tokens 151643..151705 with their `special` flags. */
export function addedTokenTable(): { id: number; content: string; special: boolean }[] {
  const fromPackage = new Map(loadQwenVocab().added.map((t) => [t.id, t]));
  const table: { id: number; content: string; special: boolean }[] = [];
  const fixed: Record<number, [string, boolean]> = {
    151643: ['<|endoftext|>', true],
    151644: ['<|im_start|>', true],
    151645: ['<|im_end|>', true],
    151669: ['<|audio_start|>', true],
    151670: ['<|audio_end|>', true],
    151671: ['<tts_pad>', true],
    151672: ['<tts_text_bos>', true],
    151673: ['<tts_text_eod>', true],
    151674: ['<tts_text_bos_single>', true],
    151675: ['<non_speech>', false],
    151676: ['<|audio_pad|>', true],
    151704: ['<asr_text>', false],
    151705: ['<timestamp>', false],
  };
  for (let id = 151643; id <= 151705; id++) {
    let entry: [string, boolean] | undefined = fixed[id];
    if (!entry && id >= 151677 && id <= 151703) entry = [`<blank${id - 151676}>`, true];
    if (!entry) {
      const t = fromPackage.get(id);
      if (!t) throw new Error(`no added token ${id} in the Qwen3 tokenizer package`);
      entry = [t.content, t.special];
    }
    table.push({ id, content: entry[0], special: entry[1] });
  }
  return table;
}

// ---------------------------------------------------------------------------
// HF-style JSON files

export function buildConfigJson(c: ModelConfig): Record<string, unknown> {
  const aligner = c.kind === 'aligner';
  const audioConfig = {
    activation_dropout: 0,
    activation_function: 'gelu',
    attention_dropout: 0,
    conv_chunksize: c.convChunksize,
    d_model: c.audioDModel,
    downsample_hidden_size: c.downsampleHiddenSize,
    dropout: 0,
    encoder_attention_heads: c.audioHeads,
    encoder_ffn_dim: c.audioFfnDim,
    encoder_layers: c.audioLayers,
    initializer_range: new PyFloat(0.02),
    max_source_positions: c.maxSourcePositions,
    model_type: 'qwen3_asr_audio_encoder',
    n_window: c.nWindow,
    n_window_infer: c.nWindowInfer,
    num_hidden_layers: c.audioLayers,
    num_mel_bins: c.numMelBins,
    output_dim: c.audioOutputDim,
    scale_embedding: false,
  };
  const textConfig = {
    attention_bias: false,
    attention_dropout: new PyFloat(0),
    bos_token_id: null,
    eos_token_id: null,
    head_dim: c.headDim,
    hidden_act: 'silu',
    hidden_size: c.hiddenSize,
    initializer_range: new PyFloat(0.02),
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositionEmbeddings,
    model_type: 'qwen3',
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    num_key_value_heads: c.numKvHeads,
    pad_token_id: null,
    rms_norm_eps: new PyFloat(c.rmsNormEps),
    rope_scaling: {
      interleaved: true,
      mrope_interleaved: true,
      mrope_section: mropeSection(c.headDim),
      rope_type: 'default',
      type: 'default',
    },
    rope_theta: c.ropeTheta,
    tie_word_embeddings: !aligner,
    use_cache: true,
    vocab_size: c.vocabSize,
  };
  const thinker: Record<string, unknown> = {
    model_type: aligner ? 'qwen3_forced_aligner' : 'qwen3_asr',
  };
  if (aligner) thinker.classify_num = c.classifyNum;
  Object.assign(thinker, {
    architectures: ['Qwen3ASRForConditionalGeneration'],
    audio_config: audioConfig,
    audio_end_token_id: SPECIAL_IDS.audioEnd,
    audio_start_token_id: SPECIAL_IDS.audioStart,
    audio_token_id: SPECIAL_IDS.audioPad,
    dtype: 'bfloat16',
    initializer_range: new PyFloat(0.02),
    text_config: textConfig,
  });
  const cfg: Record<string, unknown> = { architectures: ['Qwen3ASRForConditionalGeneration'] };
  if (aligner) {
    cfg.timestamp_token_id = SPECIAL_IDS.timestamp;
    cfg.timestamp_segment_time = 80;
  }
  cfg.model_type = 'qwen3_asr';
  cfg.support_languages = [...(aligner ? ALIGNER_LANGUAGES : ASR_LANGUAGES)];
  cfg.thinker_config = thinker;
  cfg.transformers_version = '4.57.6';
  return cfg;
}

export function buildPreprocessorConfigJson(c: ModelConfig): Record<string, unknown> {
  return {
    chunk_length: 30,
    dither: new PyFloat(0),
    feature_extractor_type: 'WhisperFeatureExtractor',
    feature_size: c.numMelBins,
    hop_length: 160,
    n_fft: 400,
    n_samples: 480000,
    nb_max_frames: 3000,
    padding_side: 'right',
    padding_value: new PyFloat(0),
    processor_class: 'Qwen3ASRProcessor',
    return_attention_mask: true,
    sampling_rate: 16000,
  };
}

export function buildTokenizerConfigJson(): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of addedTokenTable()) {
    decoder[String(t.id)] = {
      content: t.content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: t.special,
    };
  }
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: [
      '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>', '<|box_end|>',
      '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>',
      '<|video_pad|>', '<|audio_start|>', '<|audio_end|>', '<tts_pad>', '<tts_text_bos>', '<tts_text_bos_single>',
      '<|audio_pad|>',
    ],
    audio_bos_token: '<|audio_start|>',
    audio_eos_token: '<|audio_end|>',
    audio_token: '<|audio_pad|>',
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    extra_special_tokens: {
      audio_bos_token: '<|audio_start|>',
      audio_eos_token: '<|audio_end|>',
      audio_token: '<|audio_pad|>',
      image_token: '<|image_pad|>',
      video_token: '<|video_pad|>',
      vision_bos_token: '<|vision_start|>',
      vision_eos_token: '<|vision_end|>',
    },
    image_token: '<|image_pad|>',
    model_max_length: 131072,
    pad_token: '<|endoftext|>',
    processor_class: 'Qwen3ASRProcessor',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
    video_token: '<|video_pad|>',
    vision_bos_token: '<|vision_start|>',
    vision_eos_token: '<|vision_end|>',
  };
}

export function buildMetadata(c: ModelConfig, seed: number): Record<string, unknown> {
  return {
    'config.json': buildConfigJson(c),
    'tokenizer_config.json': buildTokenizerConfigJson(),
    'preprocessor_config.json': buildPreprocessorConfigJson(c),
    model_name: `${c.modelName}-random-s${seed}`,
  };
}
