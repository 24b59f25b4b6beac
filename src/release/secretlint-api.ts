/**
 * What of secretlint the credential scan loads on demand, re-exported statically: the CLI bundle
 * inlines secretlint and its dependencies (45 files, resolved and linked one by one, were about
 * 15 ms of a one-function build), and refuses a dynamic import of a package it inlines.
 */
export { lintSource } from '@secretlint/core';
export { secretLintProfiler } from '@secretlint/profiler';
export { creator } from '@secretlint/secretlint-rule-preset-recommend';
