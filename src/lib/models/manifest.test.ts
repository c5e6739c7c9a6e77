import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BASE_URL_SETTING,
  BUNDLED_MANIFEST,
  defaultEntry,
  loadManifest,
  ManifestError,
  MANIFEST_URL_SETTING,
  readModelSource,
  resolveModelUrl,
  validateManifest,
} from './manifest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const realFile = () => JSON.parse(readFileSync(join(ROOT, 'models-manifest.json'), 'utf8'));

function problems(raw: unknown): string[] {
  try {
    validateManifest(raw);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).problems;
  }
}

describe('models-manifest.json', () => {
  it('is valid', () => {
    expect(problems(realFile())).toEqual([]);
  });

  it('lists the published models with the expected facts', () => {
    const m = validateManifest(realFile());
    const byId = Object.fromEntries(m.models.map((e) => [e.id, e]));
    const asr = byId['qwen3-asr-0.6b-q4_0'];
    expect(asr).toMatchObject({ kind: 'asr', default: true, bytes: 538868432, sha256: null, quant: 'q4_0', license: 'apache-2.0', file: 'qwen3-asr-0.6b-q4_0.bin' });
    expect(asr.approximate).toBeFalsy();
    expect(asr.languages).toHaveLength(30);
    expect(asr.languages).toContain('Macedonian');
    expect(byId['qwen3-asr-1.7b-q4_0']).toMatchObject({ kind: 'asr', bytes: 1333259872, approximate: true });
    expect(byId['qwen3-asr-1.7b-q4_0'].default).toBeFalsy();
    const fa = byId['qwen3-forced-aligner-0.6b-q4_0'];
    expect(fa).toMatchObject({ kind: 'aligner', bytes: 527843328, approximate: true });
    expect(fa.languages).toHaveLength(11);
    for (const e of m.models) expect(e.url.startsWith('https://huggingface.co/Luigi/Qwen3-ASR-0.6B-chatllm-quantized/resolve/main/')).toBe(true);
    expect(defaultEntry(m, 'asr')?.id).toBe('qwen3-asr-0.6b-q4_0');
    expect(defaultEntry(m, 'aligner')?.id).toBe('qwen3-forced-aligner-0.6b-q4_0');
  });

  it('is the manifest bundled into the app', () => {
    expect(BUNDLED_MANIFEST.models.map((e) => e.id)).toEqual(realFile().models.map((e: { id: string }) => e.id));
  });
});

describe('validateManifest', () => {
  const good = () => realFile();

  it('names every problem it finds', () => {
    const m = good();
    m.models[0].bytes = -1;
    m.models[0].sha256 = 'ABC';
    m.models[1].kind = 'tts';
    m.models[2].extra = 1;
    const p = problems(m);
    expect(p.join('\n')).toMatch(/bytes must be a positive/);
    expect(p.join('\n')).toMatch(/sha256 must be 64 lowercase hex/);
    expect(p.join('\n')).toMatch(/kind must be/);
    expect(p.join('\n')).toMatch(/unknown field "extra"/);
  });

  it('refuses duplicate ids, two defaults of a kind, a URL not ending with the file, a file with a path', () => {
    const dup = good();
    dup.models[1].id = dup.models[0].id;
    expect(problems(dup).join()).toMatch(/listed twice/);
    const twoDefaults = good();
    twoDefaults.models[1].default = true;
    expect(problems(twoDefaults).join()).toMatch(/more than one default asr/);
    const url = good();
    url.models[0].url = 'https://example.com/other.bin';
    expect(problems(url).join()).toMatch(/url must end with the file name/);
    const path = good();
    path.models[0].file = '../x.bin';
    expect(problems(path).join()).toMatch(/plain \.bin file name/);
    const js = good();
    js.models[0].url = 'javascript:alert(1)//qwen3-asr-0.6b-q4_0.bin';
    expect(problems(js).join()).toMatch(/http\(s\) URL/);
  });

  it('refuses a wrong version, no models, a bad part size, non-objects', () => {
    expect(problems({ version: 2, models: good().models }).join()).toMatch(/version must be 1/);
    expect(problems({ version: 1, models: [] }).join()).toMatch(/non-empty array/);
    expect(problems({ ...good(), partBytes: 1000 }).join()).toMatch(/partBytes/);
    expect(problems({ ...good(), partBytes: 2 * 1024 * 1024 })).toEqual([]);
    expect(problems(null).join()).toMatch(/not a JSON object/);
    expect(problems([]).join()).toMatch(/not a JSON object/);
  });

  it('accepts a sha256 of 64 hex digits and null', () => {
    const m = good();
    m.models[0].sha256 = 'a'.repeat(64);
    expect(problems(m)).toEqual([]);
  });
});

describe('where models come from', () => {
  const entry = BUNDLED_MANIFEST.models[0];

  it('uses the manifest URL unless a base replaces everything before the file name', () => {
    expect(resolveModelUrl(entry)).toBe(entry.url);
    expect(resolveModelUrl(entry, 'http://127.0.0.1:9000/m/')).toBe('http://127.0.0.1:9000/m/qwen3-asr-0.6b-q4_0.bin');
    expect(resolveModelUrl(entry, 'http://127.0.0.1:9000/m')).toBe('http://127.0.0.1:9000/m/qwen3-asr-0.6b-q4_0.bin');
  });

  it('reads ?models= and ?manifest= from the address, before the stored settings', () => {
    const store = new Map([[BASE_URL_SETTING, 'https://mirror.example/models/']]);
    const storage = { getItem: (k: string) => store.get(k) ?? null };
    expect(readModelSource('http://127.0.0.1:4173/?models=http://127.0.0.1:9000/', storage)).toEqual({
      baseUrl: 'http://127.0.0.1:9000/',
      manifestUrl: undefined,
      from: 'address',
    });
    expect(readModelSource('http://127.0.0.1:4173/?manifest=test.json', null)).toMatchObject({ manifestUrl: 'http://127.0.0.1:4173/test.json', from: 'address' });
    expect(readModelSource('http://127.0.0.1:4173/', storage)).toEqual({ baseUrl: 'https://mirror.example/models/', manifestUrl: undefined, from: 'setting' });
    store.set(MANIFEST_URL_SETTING, 'https://mirror.example/m.json');
    expect(readModelSource('http://127.0.0.1:4173/', storage).manifestUrl).toBe('https://mirror.example/m.json');
    expect(readModelSource('http://127.0.0.1:4173/', null)).toEqual({ from: 'default' });
    // Not http(s): ignored.
    expect(readModelSource('http://127.0.0.1:4173/?models=javascript:alert(1)', null)).toEqual({ from: 'default' });
  });

  it('loads and validates an override manifest, and reports a bad one', async () => {
    const body = JSON.stringify({ version: 1, partBytes: 1 << 20, models: realFile().models });
    const ok = await loadManifest({ manifestUrl: 'http://x/m.json', from: 'address' }, async () => new Response(body));
    expect(ok.partBytes).toBe(1 << 20);
    await expect(loadManifest({ manifestUrl: 'http://x/m.json', from: 'address' }, async () => new Response('nope', { status: 404 }))).rejects.toThrow(/HTTP 404/);
    await expect(loadManifest({ manifestUrl: 'http://x/m.json', from: 'address' }, async () => new Response('{"version":1}'))).rejects.toThrow(ManifestError);
    expect(await loadManifest({ from: 'default' })).toBe(BUNDLED_MANIFEST);
  });
});
