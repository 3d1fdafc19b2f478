// versions.mjs: says which Node and playwright-core the browser test uses,
// and whether they fit together, before any test runs. Debian 12's nodejs is
// 18 while newer playwright-core releases need 20: without this check the
// mismatch showed only as a stack trace deep inside tests/dashboard.mjs.
//
//   node tests/node/versions.mjs [NODE_DIR]
//
// Prints one line. Exit 0: installed version = the pin in package.json and
// its `engines.node` admits this Node. Exit 1: they do not fit (the line
// says what to change). Exit 2: playwright-core is not installed (or not the
// pinned version), so `npm install` is due. Only the Node standard library.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] || dirname(fileURLToPath(import.meta.url));
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

// ">=18", ">=18.0.0", ">= 20": the forms playwright-core has used.
function admits(range, version) {
	const m = /^\s*>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range || '');
	if (!m) return null;
	const want = m.slice(1).map((x) => Number(x || 0));
	const have = version.split('.').map(Number);
	for (let i = 0; i < 3; i++)
		if (have[i] !== want[i]) return have[i] > want[i];
	return true;
}

const node = process.versions.node;
const pin = readJson(join(dir, 'package.json')).dependencies['playwright-core'];
let pkg = null;
try {
	pkg = readJson(join(dir, 'node_modules', 'playwright-core', 'package.json'));
} catch {
	/* not installed */
}
if (!pkg || pkg.version !== pin) {
	console.log(`playwright-core ${pin} is pinned but ${pkg ? pkg.version : 'none'} is installed in ${dir}/node_modules`);
	process.exit(2);
}
const range = pkg.engines && pkg.engines.node;
const fits = admits(range, node);
if (fits === false) {
	console.log(`Node ${node} cannot run playwright-core ${pkg.version} (its engines say node ${range}): ` +
		`pin a playwright-core whose engines admit Node ${node.split('.')[0]} in ${dir}/package.json`);
	process.exit(1);
}
console.log(`Node ${node}, playwright-core ${pkg.version} (engines: node ${range || 'any'})` +
	(fits === null ? ', engines range not understood, assumed to fit' : ''));
