// What a widget does over the API, as small functions the widget tests share.
import type { TestCharla } from '../../support/charla.ts';

export const SESSION = `mutation($websiteToken: String!, $visitorToken: String, $identity: VisitorIdentityInput) {
  widgetSession(websiteToken: $websiteToken, visitorToken: $visitorToken, identity: $identity) {
    visitorToken
    contact { id name email phone }
    config { inboxName locale widgetColor replyTime agentsOnline allowMessagesAfterResolved hmacMandatory
      csat { enabled display message } preChatForm { enabled message fields { name type required } } }
    conversation { id status canReply assignee { name avatarUrl } }
  }
}`;

export const VISITOR_MESSAGE_FIELDS = `id messageType contentType content deleted contentAttributes createdAt
  sender { type name avatarUrl } attachments { id fileName url }`;

export const WIDGET_EVENTS = `subscription { widgetEvents { type typing
  message { ${VISITOR_MESSAGE_FIELDS} }
  conversation { id status canReply assignee { name } } } }`;

export interface VisitorSession {
  visitorToken: string;
  contact: { id: string; name: string; email: string | null; phone: string | null };
  config: Record<string, any>;
  conversation: { id: string; status: string; canReply: boolean } | null;
}

export async function openWidget(
  charla: TestCharla,
  websiteToken: string,
  { visitorToken, identity }: { visitorToken?: string; identity?: Record<string, unknown> } = {},
): Promise<VisitorSession> {
  const data = await charla.mutate(SESSION, { websiteToken, visitorToken, identity });
  return data.widgetSession as VisitorSession;
}

export async function say(charla: TestCharla, visitorToken: string, content: string): Promise<{ id: string; content: string }> {
  const data = await charla.mutate(`mutation($content: String!) { sendVisitorMessage(content: $content) { id content } }`, { content }, visitorToken);
  return data.sendVisitorMessage;
}

export async function currentConversationId(charla: TestCharla, visitorToken: string): Promise<string> {
  const data = await charla.mutate(`{ visitorConversation { id } }`, {}, visitorToken);
  return data.visitorConversation.id;
}

export async function reply(charla: TestCharla, agentToken: string, conversationId: string, content: string, isPrivate = false): Promise<{ id: string }> {
  const data = await charla.mutate(
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
    { input: { conversationId, content, private: isPrivate } },
    agentToken,
  );
  return data.sendMessage;
}

export async function setStatus(charla: TestCharla, agentToken: string, conversationId: string, status: string): Promise<void> {
  await charla.mutate(
    `mutation($id: ID!, $status: ConversationStatus!) { changeConversationStatus(conversationId: $id, status: $status) { id } }`,
    { id: conversationId, status },
    agentToken,
  );
}

/** The whole conversation as the agent console shows it (notes and activity lines included). */
export async function agentMessages(charla: TestCharla, agentToken: string, conversationId: string): Promise<Array<Record<string, any>>> {
  const data = await charla.mutate(
    `query($id: ID!) { conversation(id: $id) { messages(first: 100) { edges { node { id messageType contentType content private contentAttributes } } } } }`,
    { id: conversationId },
    agentToken,
  );
  return data.conversation.messages.edges.map((edge: { node: Record<string, any> }) => edge.node);
}
