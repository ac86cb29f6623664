// Mongoose 9 against embedded-mongo: the model features the Charla server relies on, end to end.
import mongoose, { Schema, Types, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMongo, type TestMongo } from '../support/mongo.ts';

interface Author {
  name: string;
  email: string;
  createdAt: Date;
  updatedAt: Date;
}

interface Comment {
  body: string;
  votes: number;
}

interface Post {
  title: string;
  author: Types.ObjectId;
  comments: Comment[];
  tags: string[];
  views: number;
  createdAt: Date;
  updatedAt: Date;
}

const authorSchema = new Schema<Author>(
  {
    name: { type: String, required: true },
    email: { type: String, required: true, unique: true },
  },
  { timestamps: true },
);

const commentSchema = new Schema<Comment>({
  body: { type: String, required: true },
  votes: { type: Number, default: 0 },
});

const postSchema = new Schema<Post>(
  {
    title: { type: String, required: true },
    author: { type: Schema.Types.ObjectId, ref: 'Author', required: true },
    comments: [commentSchema],
    tags: [String],
    views: { type: Number, default: 0 },
  },
  { timestamps: true },
);

let mongo: TestMongo;
let connection: Connection;
let AuthorModel: mongoose.Model<Author>;
let PostModel: mongoose.Model<Post>;

beforeAll(async () => {
  mongo = await startTestMongo();
  connection = await mongoose.createConnection(mongo.dbUri).asPromise();
  AuthorModel = connection.model<Author>('Author', authorSchema);
  PostModel = connection.model<Post>('Post', postSchema);
  await AuthorModel.init();
  await PostModel.init();
});

afterAll(async () => {
  await connection?.close();
  await mongo?.stop();
});

let emailCounter = 0;
function uniqueEmail(): string {
  emailCounter += 1;
  return `author${emailCounter}@example.test`;
}

describe('mongoose on embedded-mongo', () => {
  it('saves a document with timestamps and a subdocument array and reads it back with populate', async () => {
    const author = await AuthorModel.create({ name: 'Ada', email: uniqueEmail() });
    const post = await PostModel.create({
      title: 'First post',
      author: author._id,
      comments: [{ body: 'Nice', votes: 2 }, { body: 'Agreed' }],
      tags: ['intro', 'hello'],
    });

    const loaded = await PostModel.findById(post._id).populate<{ author: Author }>('author').orFail();

    expect(loaded.title).toBe('First post');
    expect(loaded.author.name).toBe('Ada');
    expect(loaded.author.email).toBe(author.email);
    expect(loaded.comments.map((c) => [c.body, c.votes])).toEqual([
      ['Nice', 2],
      ['Agreed', 0],
    ]);
    expect(loaded.tags).toEqual(['intro', 'hello']);
    expect(loaded.createdAt).toBeInstanceOf(Date);
    expect(loaded.updatedAt.getTime()).toBe(post.updatedAt.getTime());
    expect(Math.abs(loaded.createdAt.getTime() - Date.now())).toBeLessThan(60_000);

    const raw = await connection.db!.collection('posts').findOne({ _id: post._id });
    expect(raw?.author).toBeInstanceOf(Types.ObjectId);
    expect((raw?.comments as Array<{ _id: unknown }>)[0]?._id).toBeInstanceOf(Types.ObjectId);
  });

  it('keeps createdAt and moves updatedAt forward when a document is saved again', async () => {
    const author = await AuthorModel.create({ name: 'Grace', email: uniqueEmail() });
    const createdAt = author.createdAt.getTime();
    const firstUpdatedAt = author.updatedAt.getTime();
    // Timestamps have millisecond resolution; make sure the clock has moved before saving again.
    while (Date.now() <= firstUpdatedAt) await new Promise((resolve) => setImmediate(resolve));

    author.name = 'Grace Hopper';
    await author.save();

    const reloaded = await AuthorModel.findById(author._id).orFail();
    expect(reloaded.name).toBe('Grace Hopper');
    expect(reloaded.createdAt.getTime()).toBe(createdAt);
    expect(reloaded.updatedAt.getTime()).toBeGreaterThan(firstUpdatedAt);
  });

  it('creates the unique index on init and rejects a duplicate save with code 11000 and the key value', async () => {
    const indexes = await AuthorModel.listIndexes();
    const emailIndex = indexes.find((index) => JSON.stringify(index.key) === JSON.stringify({ email: 1 }));
    expect(emailIndex?.unique).toBe(true);

    const email = uniqueEmail();
    await AuthorModel.create({ name: 'First', email });

    const error = await AuthorModel.create({ name: 'Second', email }).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(mongoose.mongo.MongoServerError);
    const serverError = error as InstanceType<typeof mongoose.mongo.MongoServerError>;
    expect(serverError.code).toBe(11000);
    expect(serverError.keyValue).toEqual({ email });
    expect(serverError.message).toMatch(/E11000 duplicate key error/);
    expect(await AuthorModel.countDocuments({ email })).toBe(1);
  });

  it('syncIndexes creates an index added to the schema later and the duplicate is then rejected', async () => {
    const slugSchema = new Schema({ slug: { type: String, required: true } });
    const Page = connection.model('Page', slugSchema);
    await Page.init();
    await Page.create({ slug: 'home' });

    slugSchema.index({ slug: 1 }, { unique: true });
    await Page.syncIndexes();

    const indexes = await Page.listIndexes();
    expect(indexes.some((index) => index.unique === true && JSON.stringify(index.key) === '{"slug":1}')).toBe(true);
    const error = await Page.create({ slug: 'home' }).then(
      () => undefined,
      (err: unknown) => err as { code?: number; keyValue?: unknown },
    );
    expect(error?.code).toBe(11000);
    expect(error?.keyValue).toEqual({ slug: 'home' });
  });

  it('rejects a findOneAndUpdate that would duplicate a unique key with code 11000', async () => {
    const taken = uniqueEmail();
    await AuthorModel.create({ name: 'Taken', email: taken });
    const other = await AuthorModel.create({ name: 'Other', email: uniqueEmail() });

    const error = await AuthorModel.findOneAndUpdate({ _id: other._id }, { $set: { email: taken } }, { returnDocument: 'after' }).then(
      () => undefined,
      (err: unknown) => err as { code?: number; keyValue?: unknown },
    );

    expect(error?.code).toBe(11000);
    expect(error?.keyValue).toEqual({ email: taken });
    expect((await AuthorModel.findById(other._id).orFail()).email).toBe(other.email);
  });

  it('findOneAndUpdate with returnDocument after returns the updated document', async () => {
    const author = await AuthorModel.create({ name: 'Linus', email: uniqueEmail() });
    const post = await PostModel.create({ title: 'Counting', author: author._id, views: 5 });

    const updated = await PostModel.findOneAndUpdate(
      { _id: post._id },
      { $inc: { views: 3 }, $push: { comments: { body: 'pushed' } } },
      { returnDocument: 'after' },
    ).orFail();

    expect(updated.views).toBe(8);
    expect(updated.comments.map((c) => c.body)).toEqual(['pushed']);
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(post.updatedAt.getTime());

    const before = await PostModel.findOneAndUpdate({ _id: post._id }, { $inc: { views: 1 } }, { returnDocument: 'before' }).orFail();
    expect(before.views).toBe(8);
    expect((await PostModel.findById(post._id).orFail()).views).toBe(9);
  });

  it('findOneAndUpdate with upsert creates the document with the filter fields and timestamps', async () => {
    const email = uniqueEmail();

    const created = await AuthorModel.findOneAndUpdate(
      { email },
      { $set: { name: 'Upserted' } },
      { returnDocument: 'after', upsert: true },
    ).orFail();

    expect(created.email).toBe(email);
    expect(created.name).toBe('Upserted');
    expect(created._id).toBeInstanceOf(Types.ObjectId);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt).toBeInstanceOf(Date);

    const again = await AuthorModel.findOneAndUpdate(
      { email },
      { $set: { name: 'Upserted twice' } },
      { returnDocument: 'after', upsert: true },
    ).orFail();
    expect(again._id.equals(created._id)).toBe(true);
    expect(again.createdAt.getTime()).toBe(created.createdAt.getTime());
    expect(await AuthorModel.countDocuments({ email })).toBe(1);
  });

  it('countDocuments counts only the documents matching the filter', async () => {
    const author = await AuthorModel.create({ name: 'Counter', email: uniqueEmail() });
    await PostModel.insertMany([
      { title: 'a', author: author._id, tags: ['count-me'], views: 1 },
      { title: 'b', author: author._id, tags: ['count-me'], views: 10 },
      { title: 'c', author: author._id, tags: ['count-me', 'popular'], views: 100 },
      { title: 'd', author: author._id, tags: ['other'], views: 1000 },
    ]);

    expect(await PostModel.countDocuments({ author: author._id })).toBe(4);
    expect(await PostModel.countDocuments({ author: author._id, tags: 'count-me' })).toBe(3);
    expect(await PostModel.countDocuments({ author: author._id, views: { $gte: 10, $lt: 1000 } })).toBe(2);
    expect(await PostModel.countDocuments({ author: new Types.ObjectId() })).toBe(0);
  });

  it('lean queries return plain objects honouring sort, skip, limit and projection', async () => {
    const author = await AuthorModel.create({ name: 'Sorter', email: uniqueEmail() });
    const views = [7, 3, 9, 1, 5, 8, 2];
    await PostModel.insertMany(views.map((v) => ({ title: `p${v}`, author: author._id, views: v })));

    const top = await PostModel.find({ author: author._id }).sort({ views: -1 }).limit(3).select('title views').lean();
    expect(top.map((p) => p.views)).toEqual([9, 8, 7]);
    expect(top.map((p) => p.title)).toEqual(['p9', 'p8', 'p7']);
    expect(top[0]).not.toBeInstanceOf(mongoose.Document);
    expect(top[0]?._id).toBeInstanceOf(Types.ObjectId);
    expect(top[0]).not.toHaveProperty('tags');

    const page = await PostModel.find({ author: author._id }).sort({ views: 1 }).skip(2).limit(2).lean();
    expect(page.map((p) => p.views)).toEqual([3, 5]);
  });

  it('aggregates posts per author with $match, $group and $sort', async () => {
    const tag = `agg-${Date.now()}`;
    const alice = await AuthorModel.create({ name: 'Alice', email: uniqueEmail() });
    const bob = await AuthorModel.create({ name: 'Bob', email: uniqueEmail() });
    await PostModel.insertMany([
      { title: 'a1', author: alice._id, tags: [tag], views: 10 },
      { title: 'a2', author: alice._id, tags: [tag], views: 15 },
      { title: 'b1', author: bob._id, tags: [tag], views: 40 },
    ]);

    const totals = await PostModel.aggregate<{ _id: Types.ObjectId; posts: number; views: number }>([
      { $match: { tags: tag } },
      { $group: { _id: '$author', posts: { $sum: 1 }, views: { $sum: '$views' } } },
      { $sort: { views: -1 } },
    ]);

    expect(totals).toHaveLength(2);
    expect(totals[0]?._id.equals(bob._id)).toBe(true);
    expect(totals.map((t) => [t.posts, t.views])).toEqual([
      [1, 40],
      [2, 25],
    ]);
  });

  it('deleteMany removes the matching documents and reports how many', async () => {
    const author = await AuthorModel.create({ name: 'Deleter', email: uniqueEmail() });
    await PostModel.insertMany([
      { title: 'keep', author: author._id, views: 1 },
      { title: 'drop', author: author._id, views: 2 },
      { title: 'drop', author: author._id, views: 3 },
    ]);

    const result = await PostModel.deleteMany({ author: author._id, title: 'drop' });

    expect(result.deletedCount).toBe(2);
    const left = await PostModel.find({ author: author._id }).lean();
    expect(left.map((p) => p.title)).toEqual(['keep']);
  });
});
