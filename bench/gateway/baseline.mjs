// The baseline of bench/gateway: a plain node:http server that calls the same bundled handler
// in-process, with the least translation that still gives the handler an HTTP API 2.0 event.
// Usage: node baseline.mjs <handler file (.mjs)> <export> <port>
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [file, name, port] = process.argv.slice(2);
const handler = (await import(pathToFileURL(file).href))[name];

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', async () => {
    const [rawPath, rawQueryString = ''] = (request.url ?? '/').split('?');
    const event = {
      version: '2.0',
      routeKey: `${request.method} ${rawPath}`,
      rawPath,
      rawQueryString,
      headers: request.headers,
      requestContext: { http: { method: request.method, path: rawPath } },
      body: Buffer.concat(chunks).toString(),
      isBase64Encoded: false,
    };
    const result = await handler(event, {});
    response.writeHead(result.statusCode ?? 200, result.headers ?? {});
    response.end(result.body ?? '');
  });
}).listen(Number(port), '127.0.0.1');
