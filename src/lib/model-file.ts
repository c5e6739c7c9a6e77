// Reads just enough of a chatllm.cpp GGMM file to know what it is before loading it
// (research/chatllm-qwen3-asr.md §1.2–1.3): the magic, the version and the model type.
export const MODEL_TYPE_ASR = 0x1000010f;
export const MODEL_TYPE_ALIGNER = 0x04000002;

export type ModelKind = 'asr' | 'aligner';

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** The kind of model in a file, or a ModelFileError explaining why it is not one of ours. */
export async function sniffModelKind(file: Blob): Promise<ModelKind> {
  if (file.size < 28) throw new ModelFileError('The file is too small to be a model');
  const head = new DataView(await file.slice(0, 20).arrayBuffer());
  const magic = String.fromCharCode(head.getUint8(0), head.getUint8(1), head.getUint8(2), head.getUint8(3));
  if (magic === 'GGUF') throw new ModelFileError('This is a GGUF file (llama.cpp); this app reads chatllm.cpp .bin files');
  if (magic !== 'ggmm') throw new ModelFileError('Not a GGMM model file (bad magic)');
  const version = head.getUint32(4, true);
  if (version !== 1) throw new ModelFileError(`Unsupported GGMM version ${version}`);
  const offsetConfig = head.getUint32(8, true);
  if (offsetConfig + 4 > file.size) throw new ModelFileError('The model file is truncated');
  const type = new DataView(await file.slice(offsetConfig, offsetConfig + 4).arrayBuffer()).getUint32(0, true);
  if (type === MODEL_TYPE_ASR) return 'asr';
  if (type === MODEL_TYPE_ALIGNER) return 'aligner';
  throw new ModelFileError(`Model type 0x${type.toString(16).padStart(8, '0')} is not Qwen3-ASR or Qwen3-ForcedAligner`);
}
