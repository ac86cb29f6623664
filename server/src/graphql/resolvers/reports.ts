// Resolvers for schema/reports.graphql: conversations, first response, reply and resolution times
// and CSAT over a period, for the whole account (administrators) or the agent's inboxes. Figures
// are aggregated in the database from `reportingEvents`, `conversations`, `csatResponses` and the
// survey messages, each matched first on an index (account + time).
import type { PipelineStage, Types } from 'mongoose';
import { parseId, parseString } from '../../auth/input.ts';
import { Conversation } from '../../db/models/conversation.ts';
import { CsatResponse } from '../../db/models/csat-response.ts';
import { Inbox } from '../../db/models/inbox.ts';
import { Message } from '../../db/models/message.ts';
import { ReportingEvent } from '../../db/models/reporting-event.ts';
import { forbidden, invalidInput } from '../../errors.ts';
import { assertInAgentAccount, requireAgent, visibleInboxIds } from '../../policies/index.ts';
import type { GraphQLContext } from '../context.ts';

interface ReportFilterArgs {
  filter: { since: Date; until: Date; inboxId?: unknown; agentId?: unknown; label?: unknown };
}

interface ReportScope {
  accountId: Types.ObjectId;
  since: Date;
  until: Date;
  /** Null: every inbox of the account. */
  inboxIds: Types.ObjectId[] | null;
  agentId: Types.ObjectId | null;
  label: string | null;
}

export interface Report {
  conversationsCount: number;
  resolutionsCount: number;
  averageFirstResponseSeconds: number | null;
  averageResolutionSeconds: number | null;
  averageReplySeconds: number | null;
  csatAverage: number | null;
  csatResponseCount: number;
  csatResponseRate: number | null;
}

export const reportsResolvers = {
  Query: {
    reports: async (_parent: unknown, { filter }: ReportFilterArgs, { viewer }: GraphQLContext): Promise<Report> => {
      const agent = requireAgent(viewer);
      const { since, until } = filter;
      if (!(since instanceof Date) || !(until instanceof Date)) throw invalidInput('filter', 'since and until must be dates');
      if (until <= since) throw invalidInput('filter.until', 'must be later than since');
      const inboxId = filter.inboxId === undefined || filter.inboxId === null ? null : parseId(filter.inboxId, 'filter.inboxId');
      const agentId = filter.agentId === undefined || filter.agentId === null ? null : parseId(filter.agentId, 'filter.agentId');
      const label = filter.label === undefined || filter.label === null ? null : parseString(filter.label, 'filter.label', { max: 100 }).trim().toLowerCase();

      let inboxIds: Types.ObjectId[] | null;
      if (inboxId) {
        assertInAgentAccount(agent, await Inbox.findById(inboxId, { accountId: 1 }).lean(), 'inbox');
        if (!agent.isAdministrator && !(await visibleInboxIds(agent)).some((id) => id.equals(inboxId))) throw forbidden('this inbox');
        inboxIds = [inboxId];
      } else {
        inboxIds = agent.isAdministrator ? null : await visibleInboxIds(agent);
      }
      return buildReport({ accountId: agent.accountId, since, until, inboxIds, agentId, label: label || null });
    },
  },
};

async function buildReport(scope: ReportScope): Promise<Report> {
  const [durations, conversationsCount, csat, surveys] = await Promise.all([
    durationsByName(scope),
    countConversations(scope),
    csatResponses(scope),
    surveysSent(scope),
  ]);
  const resolved = durations.get('conversation_resolved');
  return {
    conversationsCount,
    resolutionsCount: resolved?.count ?? 0,
    averageFirstResponseSeconds: durations.get('first_response')?.average ?? null,
    averageResolutionSeconds: resolved?.average ?? null,
    averageReplySeconds: durations.get('reply_time')?.average ?? null,
    csatAverage: csat.count > 0 ? csat.average : null,
    csatResponseCount: csat.count,
    csatResponseRate: surveys.sent > 0 ? surveys.answered / surveys.sent : null,
  };
}

const inboxCondition = (scope: ReportScope) => (scope.inboxIds ? { inboxId: { $in: scope.inboxIds } } : {});

/** Joins each row's conversation when the filter needs its labels or assignee, and keeps the matching rows. */
function conversationConditions(scope: ReportScope, localField: string, { byAssignee }: { byAssignee: boolean }): PipelineStage[] {
  const match: Record<string, unknown> = {};
  if (scope.label) match['conversation.labels'] = scope.label;
  if (byAssignee && scope.agentId) match['conversation.assigneeId'] = scope.agentId;
  if (Object.keys(match).length === 0) return [];
  return [
    {
      $lookup: {
        from: Conversation.collection.collectionName,
        localField,
        foreignField: '_id',
        as: 'conversation',
      },
    },
    { $match: match },
  ];
}

async function durationsByName(scope: ReportScope): Promise<Map<string, { count: number; average: number | null }>> {
  const rows = await ReportingEvent.aggregate<{ _id: string; count: number; average: number | null }>([
    {
      $match: {
        accountId: scope.accountId,
        name: { $in: ['first_response', 'reply_time', 'conversation_resolved'] },
        eventEndTime: { $gte: scope.since, $lt: scope.until },
        ...inboxCondition(scope),
        // The replier for response times, the assignee at resolution for resolutions.
        ...(scope.agentId && { userId: scope.agentId }),
      },
    },
    ...conversationConditions(scope, 'conversationId', { byAssignee: false }),
    { $group: { _id: '$name', count: { $sum: 1 }, average: { $avg: '$value' } } },
  ]);
  return new Map(rows.map((row) => [row._id, { count: row.count, average: row.average }]));
}

async function countConversations(scope: ReportScope): Promise<number> {
  return Conversation.countDocuments({
    accountId: scope.accountId,
    createdAt: { $gte: scope.since, $lt: scope.until },
    ...inboxCondition(scope),
    ...(scope.agentId && { assigneeId: scope.agentId }),
    ...(scope.label && { labels: scope.label }),
  });
}

async function csatResponses(scope: ReportScope): Promise<{ count: number; average: number | null }> {
  const [row] = await CsatResponse.aggregate<{ count: number; average: number | null }>([
    {
      $match: {
        accountId: scope.accountId,
        createdAt: { $gte: scope.since, $lt: scope.until },
        ...inboxCondition(scope),
        ...(scope.agentId && { assigneeId: scope.agentId }),
      },
    },
    ...conversationConditions(scope, 'conversationId', { byAssignee: false }),
    { $group: { _id: null, count: { $sum: 1 }, average: { $avg: '$rating' } } },
  ]);
  return { count: row?.count ?? 0, average: row?.average ?? null };
}

/** Surveys posted in the period, and how many of those were answered (at any time). */
async function surveysSent(scope: ReportScope): Promise<{ sent: number; answered: number }> {
  const [row] = await Message.aggregate<{ sent: number; answered: number }>([
    {
      $match: {
        accountId: scope.accountId,
        contentType: 'input_csat',
        createdAt: { $gte: scope.since, $lt: scope.until },
        ...inboxCondition(scope),
      },
    },
    ...conversationConditions(scope, 'conversationId', { byAssignee: true }),
    { $lookup: { from: CsatResponse.collection.collectionName, localField: '_id', foreignField: 'messageId', as: 'responses' } },
    { $group: { _id: null, sent: { $sum: 1 }, answered: { $sum: { $cond: [{ $gt: [{ $size: '$responses' }, 0] }, 1, 0] } } } },
  ]);
  return { sent: row?.sent ?? 0, answered: row?.answered ?? 0 };
}
