// Part of `npm run build`: compiles the JSON schemas into ajv standalone code
// (dist/manifest/schema-validators.cjs), so `stagecoach` does not compile
// them at every start. Generated, never committed.
import { writeStandaloneValidators, standaloneFile } from '../dist/manifest/schemas.js';

writeStandaloneValidators();
console.log(`compiled schemas into ${standaloneFile}`);
