// `@Name` in a private note becomes the markup the server turns into mention notifications.
import { describe, expect, it } from 'vitest';
import { mentionQueryBefore, withMentions } from '../../agent-ui/src/conversations/mentions.ts';

const ana = { id: 'a1', name: 'Ana' };
const anaGarcia = { id: 'a2', name: 'Ana García' };

describe('mentions in a private note', () => {
  it('marks up the agents named, the longest name first', () => {
    expect(withMentions('@Ana García y @Ana, mirad', [ana, anaGarcia])).toBe(
      '[@Ana García](mention://agent/a2) y [@Ana](mention://agent/a1), mirad',
    );
  });

  it('leaves e-mail addresses, longer words and markup already there alone', () => {
    expect(withMentions('ana@example.test @Anabel [@Ana](mention://agent/a1)', [ana])).toBe('ana@example.test @Anabel [@Ana](mention://agent/a1)');
  });

  it('finds the name being typed after an @ at the caret', () => {
    expect(mentionQueryBefore('hola @Luc', 9)).toBe('Luc');
    expect(mentionQueryBefore('hola @', 6)).toBe('');
    expect(mentionQueryBefore('ana@example', 11)).toBeNull();
    expect(mentionQueryBefore('hola @Luc mira', 14)).toBeNull();
  });
});
