// The list of models the app offers (models-manifest.json at the top of the repo): types, a hand-written
// validator (run by the unit test on the real file, i.e. before every build that passes its tests, and at
// run time on whatever manifest the page is given), and where the files are fetched from.
import type { ModelKind } from '../model-file';
import bundledJson from '../../../models-manifest.json';

export type { ModelKind };

export interface ManifestEntry {
  /** Stable key: the storage key of the downloaded parts. */
  id: string;
  kind: ModelKind;
  displayName: string;
  /** File name on the host (the last path segment of `url`). */
  file: string;
  url: string;
  /** Size of the file; an estimate when `approximate`. */
  bytes: number;
  /** The size is estimated (from the shapes): the server's real size is accepted and recorded. */
  approximate?: boolean;
  /** Lowercase hex; null = not known: recorded after the first download, verified when present. */
  sha256: string | null;
  quant: string;
  languages: string[];
  license: string;
  /** The one offered first for its kind. */
  default?: boolean;
}

export interface Manifest {
  version: 1;
  /**
   * Size of the stored parts (default 32 MiB). Only worth changing for tests, which download files of a
   * few MB and want several parts.
   */
  partBytes?: number;
  models: ManifestEntry[];
}

export const MiB = 1024 * 1024;
export const DEFAULT_PART_BYTES = 32 * MiB;

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid models manifest: ${problems.join('; ')}`);
    this.name = 'ManifestError';
  }
}

const ENTRY_KEYS = new Set(['id', 'kind', 'displayName', 'file', 'url', 'bytes', 'approximate', 'sha256', 'quant', 'languages', 'license', 'default']);
const TOP_KEYS = new Set(['$comment', 'version', 'partBytes', 'models']);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const nonEmpty = (x: unknown): x is string => typeof x === 'string' && x.trim() !== '';

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Checks everything a manifest must hold; throws a ManifestError naming every problem found. */
export function validateManifest(raw: unknown): Manifest {
  const problems: string[] = [];
  if (!isObject(raw)) throw new ManifestError(['the manifest is not a JSON object']);
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) problems.push(`unknown top-level field "${k}"`);
  if (raw.version !== 1) problems.push(`version must be 1 (got ${JSON.stringify(raw.version)})`);
  if (raw.partBytes !== undefined) {
    const p = raw.partBytes;
    if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 64 * 1024 || p > 256 * MiB || p % (64 * 1024) !== 0) {
      problems.push('partBytes must be a whole number of 64 KiB blocks between 64 KiB and 256 MiB');
    }
  }
  if (!Array.isArray(raw.models) || raw.models.length === 0) {
    problems.push('models must be a non-empty array');
    throw new ManifestError(problems);
  }
  const ids = new Set<string>();
  const defaults: Record<string, string[]> = {};
  raw.models.forEach((m: unknown, i: number) => {
    const where = isObject(m) && typeof m.id === 'string' ? `model "${m.id}"` : `models[${i}]`;
    const bad = (msg: string) => problems.push(`${where}: ${msg}`);
    if (!isObject(m)) {
      bad('is not an object');
      return;
    }
    for (const k of Object.keys(m)) if (!ENTRY_KEYS.has(k)) bad(`unknown field "${k}"`);
    if (typeof m.id !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,79}$/.test(m.id)) bad('id must be lowercase letters, digits, ".", "_" or "-"');
    else if (ids.has(m.id)) bad('id is listed twice');
    else ids.add(m.id);
    if (m.kind !== 'asr' && m.kind !== 'aligner') bad('kind must be "asr" or "aligner"');
    if (!nonEmpty(m.displayName)) bad('displayName is missing');
    if (typeof m.file !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*\.bin$/.test(m.file)) bad('file must be a plain .bin file name');
    if (typeof m.url !== 'string' || !isHttpUrl(m.url)) bad('url must be an http(s) URL');
    else if (typeof m.file === 'string' && !new URL(m.url).pathname.endsWith(`/${m.file}`)) bad('url must end with the file name');
    if (typeof m.bytes !== 'number' || !Number.isSafeInteger(m.bytes) || m.bytes <= 0) bad('bytes must be a positive whole number');
    if (m.approximate !== undefined && typeof m.approximate !== 'boolean') bad('approximate must be true or false');
    if (m.sha256 !== null && (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256))) {
      bad('sha256 must be 64 lowercase hex digits, or null when unknown');
    }
    if (!nonEmpty(m.quant)) bad('quant is missing');
    if (!Array.isArray(m.languages) || m.languages.length === 0 || !m.languages.every(nonEmpty)) {
      bad('languages must be a non-empty list of names');
    } else if (new Set(m.languages).size !== m.languages.length) bad('languages has duplicates');
    if (!nonEmpty(m.license)) bad('license is missing');
    if (m.default !== undefined && typeof m.default !== 'boolean') bad('default must be true or false');
    if (m.default === true && typeof m.kind === 'string') (defaults[m.kind] ??= []).push(String(m.id));
  });
  for (const [kind, list] of Object.entries(defaults)) {
    if (list.length > 1) problems.push(`more than one default ${kind} model (${list.join(', ')})`);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return raw as unknown as Manifest;
}

/** The manifest built into the app. */
export const BUNDLED_MANIFEST: Manifest = validateManifest(bundledJson);

/** The default entry of a kind (else the first of that kind). */
export function defaultEntry(manifest: Manifest, kind: ModelKind): ManifestEntry | undefined {
  return manifest.models.find((m) => m.kind === kind && m.default) ?? manifest.models.find((m) => m.kind === kind);
}

export function partBytesOf(manifest: Manifest): number {
  return manifest.partBytes ?? DEFAULT_PART_BYTES;
}

/** Where the file is fetched from: the base override replaces everything before the file name. */
export function resolveModelUrl(entry: ManifestEntry, baseUrl?: string): string {
  if (!baseUrl) return entry.url;
  return `${baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`}${entry.file}`;
}

// ---------------------------------------------------------------------------------------------------------
// Where models come from: `?models=<base>` / `?manifest=<url>` in the page address, or the same stored as
// settings in localStorage. Tests use them to serve generated models from localhost; a mirror can too.

export const BASE_URL_SETTING = 'qasr.models.base';
export const MANIFEST_URL_SETTING = 'qasr.models.manifest';

export interface ModelSource {
  /** Replaces everything before the file name of every entry's URL. */
  baseUrl?: string;
  /** A manifest to use instead of the bundled one. */
  manifestUrl?: string;
  /** Where the override came from. */
  from: 'address' | 'setting' | 'default';
}

function cleanUrl(s: string | null | undefined, relativeTo?: string): string | undefined {
  if (!s) return undefined;
  try {
    const u = new URL(s, relativeTo);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the overrides from a page address and a settings store (either may be missing). */
export function readModelSource(href?: string, storage?: Pick<Storage, 'getItem'> | null): ModelSource {
  let params: URLSearchParams | null = null;
  try {
    if (href) params = new URL(href).searchParams;
  } catch {
    params = null;
  }
  const qBase = cleanUrl(params?.get('models'));
  const qManifest = cleanUrl(params?.get('manifest'), href);
  if (qBase || qManifest) return { baseUrl: qBase, manifestUrl: qManifest, from: 'address' };
  let sBase: string | undefined;
  let sManifest: string | undefined;
  try {
    sBase = cleanUrl(storage?.getItem(BASE_URL_SETTING));
    sManifest = cleanUrl(storage?.getItem(MANIFEST_URL_SETTING));
  } catch {
    /* storage blocked */
  }
  if (sBase || sManifest) return { baseUrl: sBase, manifestUrl: sManifest, from: 'setting' };
  return { from: 'default' };
}

/** The manifest to use: the bundled one, or the override (fetched fresh and validated). */
export async function loadManifest(source: ModelSource, fetchFn: typeof fetch = fetch): Promise<Manifest> {
  if (!source.manifestUrl) return BUNDLED_MANIFEST;
  const res = await fetchFn(source.manifestUrl, { cache: 'no-store' });
  if (!res.ok) throw new Error(`The models list at ${source.manifestUrl} could not be read (HTTP ${res.status})`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new Error(`The models list at ${source.manifestUrl} is not JSON`);
  }
  return validateManifest(json);
}
