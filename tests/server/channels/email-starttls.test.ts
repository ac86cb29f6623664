// The SMTP listener with a certificate (SMTP_INBOUND_TLS_CERT / SMTP_INBOUND_TLS_KEY) offers
// STARTTLS, so mail servers deliver encrypted (without one it offers none: email-channel.test.ts),
// and a half-configured pair stops the server at start-up with a clear message.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/src/config.ts';
import { Message } from '../../../server/src/db/models/message.ts';
import { startTestCharla, stopAllTestCharlas, type TestCharla } from '../../support/charla.ts';
import { buildAccount, buildAgent } from '../../support/factories.ts';

let directory: string;
let charla: TestCharla;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'charla-tls-'));
  // A self-signed certificate for the test, made with the system's openssl.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=mx.tienda.example', '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem')], { stdio: 'ignore' });
  charla = await startTestCharla({}, { SMTP_INBOUND_PORT: '0', SMTP_INBOUND_TLS_CERT: join(directory, 'cert.pem'), SMTP_INBOUND_TLS_KEY: join(directory, 'key.pem') });
  const admin = await buildAgent((await buildAccount())._id, { role: 'administrator' });
  await charla.mutate(`mutation($input: CreateInboxInput!) { createInbox(input: $input) { id } }`, { input: { name: 'Soporte', channelType: 'EMAIL', channelConfig: { address: 'soporte@tienda.example' } } }, admin.token);
});

afterAll(async () => {
  await stopAllTestCharlas();
  await rm(directory, { recursive: true, force: true });
});

describe('STARTTLS on the SMTP listener', () => {
  it('takes mail over an encrypted connection', async () => {
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: charla.smtpInboundPort!, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    const info = await client.sendMail({ from: 'lucia@example.com', to: 'soporte@tienda.example', subject: 'Cifrado', text: 'Hola por TLS', messageId: '<tls-1@example.com>' });
    client.close();
    expect(info.accepted).toEqual(['soporte@tienda.example']);
    await charla.services.bus.idle();
    expect(await Message.findOne({ externalId: '<tls-1@example.com>' }).lean()).toMatchObject({ content: 'Hola por TLS' });
  });

  it('needs both the certificate and the key', () => {
    expect(() => loadConfig({ SMTP_INBOUND_TLS_CERT: join(directory, 'cert.pem') })).toThrow(/SMTP_INBOUND_TLS_CERT and SMTP_INBOUND_TLS_KEY/);
  });
});
