// DateTime (ISO-8601 strings) and JSON scalars, and the mapping of GraphQL's UPPER_CASE enums
// to the lowercase values stored in the database.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    return parseDate(value);
  },
  parseLiteral(node) {
    if (node.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO-8601 string', { nodes: node });
    return parseDate(node.value);
  },
});

function parseDate(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new GraphQLError('DateTime must be an ISO-8601 string such as 2026-01-31T09:00:00Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime is not a valid date');
  return date;
}

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function literal(node: ValueNode, variables?: Record<string, unknown> | null): unknown {
    switch (node.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return node.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(node.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return node.values.map((item) => literal(item, variables));
      case Kind.OBJECT:
        return Object.fromEntries(node.fields.map((field) => [field.name.value, literal(field.value, variables)]));
      case Kind.VARIABLE:
        return variables?.[node.name.value];
      default:
        throw new GraphQLError('Unsupported JSON literal', { nodes: node });
    }
  },
});

export const lowercase = (...names: string[]) => Object.fromEntries(names.map((name) => [name, name.toLowerCase()]));

/** Enum values as stored; resolvers read and return these, GraphQL shows the UPPER_CASE names. */
export const enumValues = {
  Locale: lowercase('EN', 'ES'),
  Role: lowercase('ADMINISTRATOR', 'AGENT'),
  Availability: lowercase('ONLINE', 'BUSY', 'OFFLINE'),
  ChannelType: lowercase('WEB_WIDGET', 'EMAIL', 'API', 'TELEGRAM'),
  CsatDisplay: lowercase('EMOJI', 'STAR'),
  ConversationStatus: lowercase('OPEN', 'PENDING', 'SNOOZED', 'RESOLVED'),
  Priority: lowercase('NONE', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'),
  MessageType: lowercase('INCOMING', 'OUTGOING', 'ACTIVITY', 'TEMPLATE'),
  MessageContentType: lowercase('TEXT', 'INPUT_EMAIL', 'INPUT_CSAT', 'INPUT_SELECT', 'CARDS', 'FORM'),
  SenderType: lowercase('AGENT', 'CONTACT', 'BOT'),
  DeliveryStatus: lowercase('PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED'),
  NotificationType: lowercase(
    'CONVERSATION_CREATED',
    'CONVERSATION_ASSIGNED',
    'ASSIGNED_CONVERSATION_NEW_MESSAGE',
    'CONVERSATION_MENTION',
    'PARTICIPATING_CONVERSATION_NEW_MESSAGE',
  ),
};
