/**
 * Tiny random-weight Qwen3-ASR / ForcedAligner GGMM files for the reference's own tests
 * (chatllm tensor names, PyTorch dims). Seeded, so every build is identical.
 */
import { GGML_TYPE, MODEL_TYPE_QWEN3_ASR, MODEL_TYPE_QWEN3_FORCED_ALIGNER } from './ggmm';
import { writeGgmm, type WriterTensor } from './ggmm-writer';
import { defaultAddedTokens } from './tokenizer';

export interface TinySpec {
  aligner?: boolean;
  seed?: number;
  audio?: { d?: number; layers?: number; heads?: number; ffn?: number; conv?: number; output?: number; nWindow?: number; nWindowInfer?: number };
  text?: { hidden?: number; layers?: number; heads?: number; kvHeads?: number; headDim?: number; intermediate?: number; vocab?: number; ropeTheta?: number; rmsEps?: number };
  classifyNum?: number;
  /** Omit lm_head.weight (head = embeddings). */
  tied?: boolean;
  /** Storage type of the 2-D matrices (default f32; embeddings f16 to keep files small). */
  matrixType?: number;
  embedType?: number;
  /** Replace tensor data after generation (e.g. to zero some weights). */
  edit?: (name: string, dims: number[], data: Float64Array) => void;
  /** Write only {model_name} as metadata. */
  omitMeta?: boolean;
  /** Change the metadata object before it is written. */
  metaPatch?: (meta: Record<string, any>) => void;
}

/** Small deterministic PRNG (xorshift32) returning uniforms in [-1, 1). */
export function makeRng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

export function buildTinyModel(spec: TinySpec = {}): Uint8Array {
  const aligner = spec.aligner ?? false;
  const rnd = makeRng(spec.seed ?? 1234);
  const A = {
    d: 32,
    layers: 2,
    heads: 4,
    ffn: 64,
    conv: 8,
    nWindow: 50,
    nWindowInfer: 800,
    ...spec.audio,
  };
  const Tx = {
    hidden: 32,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    intermediate: 64,
    vocab: aligner ? 152064 : 151936,
    ropeTheta: 1e6,
    rmsEps: 1e-6,
    ...spec.text,
  };
  const output = A.output ?? Tx.hidden;
  const classifyNum = spec.classifyNum ?? 64;
  const matType = spec.matrixType ?? GGML_TYPE.F32;
  const embType = spec.embedType ?? GGML_TYPE.F16;
  const tensors: WriterTensor[] = [];
  const add = (name: string, dims: number[], kind: 'mat' | 'bias' | 'norm' | 'conv' | 'embed', type?: number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float64Array(n);
    const fanIn = kind === 'conv' ? dims[1] * 9 : dims[dims.length - 1];
    for (let i = 0; i < n; i++) {
      const u = rnd();
      if (kind === 'mat' || kind === 'conv') data[i] = u * Math.sqrt(3 / fanIn);
      else if (kind === 'bias') data[i] = 0.1 * u;
      else if (kind === 'norm') data[i] = 1 + 0.2 * u;
      else data[i] = u;
    }
    spec.edit?.(name, dims, data);
    const t = type ?? (kind === 'mat' ? matType : kind === 'conv' ? GGML_TYPE.F16 : kind === 'embed' ? embType : GGML_TYPE.F32);
    tensors.push({ name, dims, type: t, data });
  };

  // audio encoder
  add('audio.conv2d1.weight', [A.conv, 1, 3, 3], 'conv');
  add('audio.conv2d1.bias', [A.conv], 'bias');
  add('audio.conv2d2.weight', [A.conv, A.conv, 3, 3], 'conv');
  add('audio.conv2d2.bias', [A.conv], 'bias');
  add('audio.conv2d3.weight', [A.conv, A.conv, 3, 3], 'conv');
  add('audio.conv2d3.bias', [A.conv], 'bias');
  add('audio.conv_out.weight', [A.d, A.conv * 16], 'mat');
  for (let l = 0; l < A.layers; l++) {
    const p = `audio.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [A.d], 'norm');
    add(`${p}.input_layernorm.bias`, [A.d], 'bias');
    for (const m of ['q', 'k', 'v', 'o']) {
      add(`${p}.self_attn.${m}_proj.weight`, [A.d, A.d], 'mat');
      add(`${p}.self_attn.${m}_proj.bias`, [A.d], 'bias');
    }
    add(`${p}.post_attention_layernorm.weight`, [A.d], 'norm');
    add(`${p}.post_attention_layernorm.bias`, [A.d], 'bias');
    add(`${p}.mlp.fc0.weight`, [A.ffn, A.d], 'mat');
    add(`${p}.mlp.fc0.bias`, [A.ffn], 'bias');
    add(`${p}.mlp.fc1.weight`, [A.d, A.ffn], 'mat');
    add(`${p}.mlp.fc1.bias`, [A.d], 'bias');
  }
  add('audio.ln_post.weight', [A.d], 'norm');
  add('audio.ln_post.bias', [A.d], 'bias');
  add('multi_modal_projector.proj1.weight', [A.d, A.d], 'mat');
  add('multi_modal_projector.proj1.bias', [A.d], 'bias');
  add('multi_modal_projector.proj2.weight', [output, A.d], 'mat');
  add('multi_modal_projector.proj2.bias', [output], 'bias');

  // text decoder
  add('model.embed_tokens.weight', [Tx.vocab, Tx.hidden], 'embed');
  for (let l = 0; l < Tx.layers; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [Tx.hidden], 'norm');
    add(`${p}.self_attn.q_proj.weight`, [Tx.heads * Tx.headDim, Tx.hidden], 'mat');
    add(`${p}.self_attn.k_proj.weight`, [Tx.kvHeads * Tx.headDim, Tx.hidden], 'mat');
    add(`${p}.self_attn.v_proj.weight`, [Tx.kvHeads * Tx.headDim, Tx.hidden], 'mat');
    add(`${p}.self_attn.o_proj.weight`, [Tx.hidden, Tx.heads * Tx.headDim], 'mat');
    add(`${p}.self_attn.q_norm.weight`, [Tx.headDim], 'norm');
    add(`${p}.self_attn.k_norm.weight`, [Tx.headDim], 'norm');
    add(`${p}.post_attention_layernorm.weight`, [Tx.hidden], 'norm');
    add(`${p}.mlp.gate_proj.weight`, [Tx.intermediate, Tx.hidden], 'mat');
    add(`${p}.mlp.up_proj.weight`, [Tx.intermediate, Tx.hidden], 'mat');
    add(`${p}.mlp.down_proj.weight`, [Tx.hidden, Tx.intermediate], 'mat');
  }
  add('model.norm.weight', [Tx.hidden], 'norm');
  if (aligner) add('lm_head.weight', [classifyNum, Tx.hidden], 'mat');
  else if (!spec.tied) add('lm_head.weight', [Tx.vocab, Tx.hidden], 'embed');

  const addedTokensDecoder: Record<string, { content: string; special: boolean }> = {};
  for (const t of defaultAddedTokens()) addedTokensDecoder[String(t.id)] = { content: t.content, special: t.special };
  const meta: Record<string, unknown> = spec.omitMeta
    ? { model_name: 'tiny' }
    : {
        model_name: 'tiny',
        'config.json': {
          architectures: ['Qwen3ASRForConditionalGeneration'],
          support_languages: aligner ? ['Chinese', 'English'] : ['Chinese', 'English', 'French'],
          ...(aligner ? { timestamp_segment_time: 80, timestamp_token_id: 151705 } : {}),
          thinker_config: {
            ...(aligner ? { model_type: 'qwen3_forced_aligner', classify_num: classifyNum } : {}),
            audio_config: {
              d_model: A.d,
              encoder_layers: A.layers,
              encoder_attention_heads: A.heads,
              encoder_ffn_dim: A.ffn,
              downsample_hidden_size: A.conv,
              num_mel_bins: 128,
              n_window: A.nWindow,
              n_window_infer: A.nWindowInfer,
              output_dim: output,
              max_source_positions: 1500,
            },
            text_config: { rms_norm_eps: Tx.rmsEps, vocab_size: Tx.vocab, hidden_size: Tx.hidden },
          },
        },
        'tokenizer_config.json': { added_tokens_decoder: addedTokensDecoder },
      };

  spec.metaPatch?.(meta);
  return writeGgmm({
    meta,
    modelType: aligner ? MODEL_TYPE_QWEN3_FORCED_ALIGNER : MODEL_TYPE_QWEN3_ASR,
    config: {
      dtype: matType,
      vocabSize: Tx.vocab,
      hiddenSize: Tx.hidden,
      numAttentionHeads: Tx.heads,
      numHiddenLayers: Tx.layers,
      intermediateSize: Tx.intermediate,
      maxLength: 65536,
      numKeyValueHeads: Tx.kvHeads,
      headDim: Tx.headDim,
      ropeTheta: Tx.ropeTheta,
      classifyNum: aligner ? classifyNum : undefined,
    },
    vocab: [
      { piece: 'a' },
      { piece: 'Ġthe' },
    ],
    merges: ['Ġ t', 'h e'],
    tensors,
  });
}
