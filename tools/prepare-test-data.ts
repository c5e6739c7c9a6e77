// Generates everything the tests read, into the git-ignored .cache/: speech fixtures in many
// containers (espeak-ng + Debian ffmpeg) and the random-weight tiny models. Idempotent.
import { makeFixtures } from './make-fixtures.mjs';
import { ensureModel } from './model-gen/index';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const t0 = Date.now();
await makeFixtures(join(root, '.cache/fixtures'));
for (const preset of ['tiny', 'aligner-tiny'] as const) await ensureModel(preset, { seed: 1 });
console.log(`[prepare-test-data] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
