import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository checkout this CLI runs from (the quickstart reads its spec from examples/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
