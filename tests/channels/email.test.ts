// The e-mail adapter on its own: what a contact's mail becomes (new words apart from the quoted
// history, threading ids, auto-replies told apart), what it refuses, and the mail it sends.
import { describe, expect, it } from 'vitest';
import { emailChannel, InboundRejected, type OutgoingMail } from '../../channels/src/index.ts';
import { MAX_ATTACHED_BYTES } from '../../channels/src/email/adapter.ts';

const now = new Date('2026-12-01T10:00:00Z');
const config = { address: 'soporte@tienda.example' };
const context = (mail?: (message: OutgoingMail) => Promise<{ messageId: string }>) => ({
  config: config as never,
  secret: 's',
  http: async () => ({ status: 200, body: '' }),
  now: () => now,
  ...(mail && { mail }),
});

const mail = (overrides: Record<string, unknown> = {}) => ({
  from: { address: 'Lucia@Example.com', name: 'Lucía Pérez' },
  to: ['soporte@tienda.example'],
  messageId: '<abc-1@example.com>',
  references: [],
  subject: 'Mi pedido',
  text: 'Hola',
  ...overrides,
});

const parse = (overrides: Record<string, unknown> = {}) => emailChannel.parseInbound(mail(overrides), context())[0]!;

describe('the email adapter reading mail', () => {
  it('keeps the sender as the contact and the Message-ID as the message id', () => {
    expect(parse()).toEqual({
      kind: 'message',
      contact: { sourceId: 'lucia@example.com', email: 'lucia@example.com', name: 'Lucía Pérez' },
      message: { externalId: '<abc-1@example.com>', content: 'Hola', threadIds: [], subject: 'Mi pedido', autoReply: false },
    });
  });

  it('strips English quoted history and keeps the whole mail as the original', () => {
    const text = 'Yes, the blue one.\n\nOn Tue, 1 Dec 2026 at 10:00, Soporte <soporte@tienda.example> wrote:\n> Which colour?\n> Thanks';
    const { message } = parse({ text, inReplyTo: '<msg_1@tienda.example>', references: ['<abc-0@example.com>', '<msg_1@tienda.example>'] });
    expect(message.content).toBe('Yes, the blue one.');
    expect(message.original).toBe(text);
    expect(message.threadIds).toEqual(['<msg_1@tienda.example>', '<abc-0@example.com>']);
  });

  it('strips Spanish quoted history, also when the attribution wraps over two lines', () => {
    expect(parse({ text: 'Sí, el azul.\n\nEl mar, 1 dic 2026 a las 10:00, Soporte\n<soporte@tienda.example> escribió:\n> ¿Qué color?' }).message.content).toBe('Sí, el azul.');
    expect(parse({ text: 'Gracias\n> ¿Algo más?\nSaludos' }).message.content).toBe('Gracias\nSaludos');
  });

  it('tells auto-replies and bounces from people writing', () => {
    expect(parse({ autoSubmitted: 'auto-replied' }).message.autoReply).toBe(true);
    expect(parse({ autoSubmitted: 'No' }).message.autoReply).toBe(false);
    expect(parse({ isBounce: true }).message.autoReply).toBe(true);
    expect(parse({ from: { address: 'MAILER-DAEMON@mx.example.com' } }).message.autoReply).toBe(true);
    expect(parse({ from: { address: 'postmaster@example.com' } }).message.autoReply).toBe(true);
  });

  it('refuses mail it cannot read, naming the field', () => {
    for (const [overrides, path] of [
      [{ from: { address: 'not an address' } }, 'from.address'],
      [{ messageId: 'no-brackets@example.com' }, 'messageId'],
      [{ messageId: { $gt: '' } }, 'messageId'],
      [{ references: ['<ok@x>', 'bad'] }, 'references.1'],
    ] as const) {
      expect(() => emailChannel.parseInbound(mail(overrides), context())).toThrow(expect.objectContaining({ path }));
    }
    expect(() => emailChannel.parseInbound({ ...mail(), extra: 1 }, context())).toThrow(InboundRejected);
  });

  it('keeps the files, and a mail of files alone has no text of its own', () => {
    const data = Buffer.from('%PDF-1.4');
    const { message } = parse({ text: '', attachments: [{ fileName: 'factura\r\n.pdf', data }] });
    expect(message.attachments).toEqual([{ fileName: 'factura .pdf', data }]);
    expect(message.content).toBe('');
    expect(parse({ text: '' }).message.content).toBe('(empty e-mail)');
  });

  it('keeps names and subjects on one line', () => {
    const event = parse({ from: { address: 'a@example.com', name: 'Eve\r\nBcc: victim@example.com' }, subject: 'Hi\r\nX-Evil: 1' });
    expect(event.contact.name).toBe('Eve Bcc: victim@example.com');
    expect(event.message.subject).toBe('Hi X-Evil: 1');
  });
});

describe('the email adapter sending', () => {
  const outbound = {
    deliveryId: 'msg_65f0c0ffee0000000000abcd',
    conversation: { id: 'c', displayId: 3 },
    contact: { sourceId: 'lucia@example.com', name: 'Lucía\nPérez', email: 'lucia@example.com' },
    message: { id: '65f0c0ffee0000000000abcd', content: 'Llega mañana.', contentType: 'text', createdAt: now.toISOString(), sender: { type: 'agent', name: 'Ana' }, attachments: [] },
    thread: { subject: 'Mi pedido', inReplyTo: '<abc-2@example.com>', references: ['<abc-1@example.com>', '<msg_1@tienda.example>', '<abc-2@example.com>'] },
  };

  it('sends from the inbox address, threaded, and keeps its Message-ID as the external id', async () => {
    const sent: OutgoingMail[] = [];
    const result = await emailChannel.send(outbound, context(async (message) => (sent.push(message), { messageId: message.messageId })));
    expect(result).toEqual({ externalId: '<msg_65f0c0ffee0000000000abcd@tienda.example>' });
    expect(sent).toEqual([
      {
        from: { address: 'soporte@tienda.example' },
        to: { address: 'lucia@example.com', name: 'Lucía Pérez' },
        subject: 'Re: Mi pedido',
        text: 'Llega mañana.',
        html: '<!doctype html><html><body><p>Llega mañana.</p>\n</body></html>',
        messageId: '<msg_65f0c0ffee0000000000abcd@tienda.example>',
        inReplyTo: '<abc-2@example.com>',
        references: ['<abc-1@example.com>', '<msg_1@tienda.example>', '<abc-2@example.com>'],
      },
    ]);
  });

  it('answers a mail without a subject with "Re: (no subject)", and gives a first mail a subject of its own', async () => {
    const subjects: string[] = [];
    const mail = async (message: OutgoingMail) => (subjects.push(message.subject), { messageId: message.messageId });
    await emailChannel.send({ ...outbound, thread: { subject: null, inReplyTo: '<abc-2@example.com>', references: ['<abc-2@example.com>'] } }, context(mail));
    await emailChannel.send({ ...outbound, thread: { subject: 'Re: Mi pedido', inReplyTo: '<abc-2@example.com>', references: [] } }, context(mail));
    await emailChannel.send({ ...outbound, thread: { subject: null, inReplyTo: null, references: [] } }, context(mail));
    expect(subjects).toEqual(['Re: (no subject)', 'Re: Mi pedido', 'Message from soporte@tienda.example']);
  });

  it('renders the Markdown as HTML in which nothing runs or loads', async () => {
    const sent: OutgoingMail[] = [];
    const content = '**Hola** _Lucía_\n\n- uno\n- dos\n\n[pedido](https://tienda.example/p/1) [x](javascript:alert(1)) <script>alert(2)</script> <img src=x onerror=alert(3)> ![pixel](https://track.example/p.gif)';
    await emailChannel.send({ ...outbound, message: { ...outbound.message, content } }, context(async (message) => (sent.push(message), { messageId: message.messageId })));
    const html = sent[0]!.html!;
    expect(html).toContain('<strong>Hola</strong> <em>Lucía</em>');
    expect(html).toContain('<ul>\n<li>uno</li>\n<li>dos</li>\n</ul>');
    expect(html).toContain('<a href="https://tienda.example/p/1" rel="noopener noreferrer nofollow" target="_blank">pedido</a>');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(3)&gt;');
    expect(html).not.toMatch(/<script|<img|href="javascript/i);
    // An image is a link to it at most: opening the mail loads nothing.
    expect(html).toContain('!<a href="https://track.example/p.gif"');
    // The text part keeps the Markdown as written.
    expect(sent[0]!.text).toBe(content);
  });

  it('attaches files within the size budget and links the rest', async () => {
    const sent: OutgoingMail[] = [];
    const files = {
      small: Buffer.from('%PDF-1.4 factura'),
    };
    const attachments = [
      { id: 'small', fileName: 'factura.pdf', contentType: 'application/pdf', size: files.small.length, url: 'https://charla.example/attachments/small?signature=1' },
      { id: 'huge', fileName: 'video.mp4', contentType: 'video/mp4', size: MAX_ATTACHED_BYTES + 1, url: 'https://charla.example/attachments/huge?signature=2' },
    ];
    const withFiles = { ...outbound, message: { ...outbound.message, attachments } };
    const reads: string[] = [];
    await emailChannel.send(withFiles, {
      ...context(async (message) => (sent.push(message), { messageId: message.messageId })),
      readAttachment: async (id: string) => (reads.push(id), files[id as 'small']),
    });
    expect(reads).toEqual(['small']);
    expect(sent[0]!.attachments).toEqual([{ fileName: 'factura.pdf', contentType: 'application/pdf', content: files.small }]);
    expect(sent[0]!.text).toBe('Llega mañana.\n\nvideo.mp4: https://charla.example/attachments/huge?signature=2');
    expect(sent[0]!.html).toContain('<a href="https://charla.example/attachments/huge?signature=2">video.mp4</a>');
  });

  it('fails for good without a mailer or an address to write to', async () => {
    await expect(emailChannel.send(outbound, context())).rejects.toMatchObject({ retryable: false });
    const noAddress = { ...outbound, contact: { sourceId: 'x', name: '', email: null } };
    await expect(emailChannel.send(noAddress, context(async () => ({ messageId: 'x' })))).rejects.toMatchObject({ retryable: false });
  });

  it('gives up on a mail server\'s permanent refusal (5xx) and lets a temporary one (4xx) be tried again', async () => {
    const refusing = (responseCode: number) => async (): Promise<{ messageId: string }> => {
      throw Object.assign(new Error(`${responseCode} mailbox problem`), { responseCode });
    };
    await expect(emailChannel.send(outbound, context(refusing(550)))).rejects.toMatchObject({ retryable: false, message: 'the mail server refused it (SMTP 550)' });
    const temporary = await emailChannel.send(outbound, context(refusing(451))).catch((error: unknown) => error);
    expect(temporary).toMatchObject({ responseCode: 451 });
    expect(temporary).not.toHaveProperty('retryable');
  });
});
