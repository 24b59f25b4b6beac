// The generated app that bench/build and bench/dev share: N TypeScript functions, one HTTP route
// each, a shared local module; a third use zod, a third yaml, a fifth the AWS SDK's DynamoDB client.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const functionName = (i) => `fn${String(i).padStart(3, '0')}`;

/** The handler of function `i`; a `marker` (bench/dev) goes into its answer, to tell versions apart. */
export function functionSource(i, marker) {
  const imports = [`import { respond } from './lib/respond.js';`];
  const uses = [];
  if (i % 3 === 0) {
    imports.push(`import { z } from 'zod';`);
    uses.push(`z.object({ id: z.string() }).safeParse(event).success`);
  }
  if (i % 3 === 1) {
    imports.push(`import { parse } from 'yaml';`);
    uses.push(`parse('a: 1')`);
  }
  if (i % 5 === 0) {
    imports.push(`import { DynamoDBClient } from '@aws-sdk/client-dynamodb';`);
    uses.push(`typeof DynamoDBClient`);
  }
  const extra = marker === undefined ? '' : `marker: '${marker}', `;
  return `${imports.join('\n')}\nexport const handler = async (event: unknown) => respond(200, { fn: '${functionName(i)}', ${extra}checks: [${uses.join(', ')}] });\n`;
}

/** Writes the app into `app` (emptied first) with the given environments. */
export function generateApp(app, count, environments, marker) {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(join(app, 'src', 'lib'), { recursive: true });
  writeFileSync(
    join(app, 'src', 'lib', 'respond.ts'),
    `export const respond = (statusCode: number, body: unknown) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });\n`,
  );
  const functions = [];
  for (let i = 0; i < count; i++) {
    const name = functionName(i);
    writeFileSync(join(app, 'src', `${name}.ts`), functionSource(i, marker));
    functions.push(`  ${name}:\n    handler: src/${name}.handler\n    events:\n      - http: GET /${name}`);
  }
  const chain = environments.map((env) => `  - name: ${env}`).join('\n');
  writeFileSync(
    join(app, 'stagecraft.yml'),
    `app: bench\nenvironments:\n${chain}\nfunctions:\n${functions.join('\n')}\n`,
  );
}
