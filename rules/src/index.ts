// Rules and bots, pure: the vocabulary, rule-set documents, their evaluation and the presets.
// Facts in, actions out; the server runs the actions.
export * from './vocabulary.ts';
export * from './actions.ts';
export * from './document.ts';
export * from './operators.ts';
export * from './engine.ts';
export * from './template.ts';
export * from './presets.ts';
export * from './json-schema.ts';
export * from './campaigns.ts';
