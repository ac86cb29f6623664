// Uploads meant to run in the browser that opens them, or to break out of their headers or folder:
// SVG and HTML with scripts, a Windows program claimed to be an image, a name with line breaks or
// a path. Each is stored under its own id and served only as an inert download (never inline,
// nosniff, a sandboxing CSP), with the name kept out of the headers' structure and off the disk.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent, buildContact, buildConversation, buildInbox, type BuiltAgent } from '../../support/factories.ts';
import { securityTally } from '../../support/security-tally.ts';

const tally = securityTally('attachment abuse');

let charla: TestCharla;
let agent: BuiltAgent;
let conversationId: string;

beforeAll(async () => {
  charla = await startTestCharla();
  const account = await buildAccount();
  agent = await buildAgent(account._id);
  const inbox = await buildInbox(account._id, { memberIds: [agent.user._id] });
  conversationId = String((await buildConversation(await buildContact(inbox)))._id);
});

afterAll(stopAllTestCharlas);

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>';
const HTML = '<!doctype html><html><body><script>fetch("/graphql")</script></body></html>';
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]);

async function uploadAndDownload(bytes: Buffer | string, fileName: string, claimedType: string) {
  const uploaded = await charla.upload(bytes, { token: agent.token, conversationId, fileName, claimedType });
  expect(uploaded.status).toBe(201);
  const response = await fetch(`${charla.url}/attachments/${uploaded.body.id}`, { headers: { authorization: `Bearer ${agent.token}` } });
  return { uploaded: uploaded.body, response };
}

describe('hostile uploads', () => {
  it('serves SVG, HTML and programs as downloads the browser will not run, whatever type the client claimed', async () => {
    for (const [bytes, fileName, claimedType] of [
      [SVG, 'logo.svg', 'image/svg+xml'],
      [SVG, 'logo.png', 'image/png'],
      [HTML, 'factura.html', 'text/html'],
      [HTML, 'factura.jpg', 'image/jpeg'],
      [EXE, 'foto.gif', 'image/gif'],
    ] as const) {
      const { uploaded, response } = await uploadAndDownload(bytes, fileName, claimedType);
      const type = response.headers.get('content-type') ?? '';
      const inert =
        response.status === 200 &&
        !/html|svg|xml|javascript/i.test(type) &&
        /^attachment;/.test(response.headers.get('content-disposition') ?? '') &&
        response.headers.get('x-content-type-options') === 'nosniff' &&
        /sandbox/.test(response.headers.get('content-security-policy') ?? '');
      expect(tally.expectDenied(inert), `${fileName} as ${claimedType}: ${type} ${response.headers.get('content-disposition')}`).toBe(true);
      expect(uploaded.contentType).not.toMatch(/html|svg|image\//);
    }
  });

  it('keeps line breaks and paths in a file name out of the headers and off the disk', async () => {
    const { uploaded, response } = await uploadAndDownload('hola', 'a.txt\r\nSet-Cookie: charla=1', 'text/plain');
    expect(tally.expectDenied(response.headers.get('set-cookie') === null)).toBe(true);
    expect(response.headers.get('content-disposition')).not.toMatch(/[\r\n]/);
    const traversal = await uploadAndDownload('hola', '../../../../escaped.txt', 'text/plain');
    expect(traversal.response.status).toBe(200);
    // Files are stored under their ids: the name reaches no path, inside the data folder or above it.
    const stored = await readdir(charla.dataDir, { recursive: true });
    const above = await readdir(join(charla.dataDir, '..'));
    expect(tally.expectDenied(![...stored, ...above].some((path) => path.includes('escaped')))).toBe(true);
    expect(uploaded.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
