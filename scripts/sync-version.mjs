// Run after `changeset version`: copies @bloodcell/core's new version into src/version.ts, which
// every bundle records (a test keeps the two equal).
import { readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../packages/core/package.json', import.meta.url), 'utf8'));
const file = new URL('../packages/core/src/version.ts', import.meta.url);
const source = readFileSync(file, 'utf8').replace(/VERSION = '[^']*'/, `VERSION = '${version}'`);
writeFileSync(file, source);
console.log(`core VERSION = ${version}`);
