/**
 * What of `yaml` a module loads on demand, re-exported statically: the CLI bundle inlines yaml,
 * which is CommonJS, and a dynamic import of it there would yield only a default export.
 */
export { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
