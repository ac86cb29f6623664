// The widget's Markdown: what it formats, and that nothing a message carries becomes markup.
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../widget/src/app/markdown.ts';

describe('rendering a message’s Markdown in the widget', () => {
  it('formats bold, italic, inline code, links and line breaks', () => {
    expect(renderMarkdown('**Hola** *qué* _tal_ `npm start`\nbye')).toBe('<strong>Hola</strong> <em>qué</em> <em>tal</em> <code>npm start</code><br>bye');
    expect(renderMarkdown('See [the docs](https://charla.example/docs?a=1&b=2) or https://charla.example.')).toBe(
      'See <a href="https://charla.example/docs?a=1&amp;b=2" target="_blank" rel="noopener noreferrer nofollow">the docs</a> or ' +
        '<a href="https://charla.example" target="_blank" rel="noopener noreferrer nofollow">https://charla.example</a>.',
    );
  });

  it('escapes every tag and attribute a message carries', () => {
    expect(renderMarkdown('<script>alert(1)</script><img src=x onerror="alert(2)">')).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;',
    );
    expect(renderMarkdown('[click](https://x.example/"onmouseover="alert(1))')).not.toContain('"onmouseover');
  });

  it('links only web and mail addresses', () => {
    expect(renderMarkdown('[x](javascript:alert(1)) [y](data:text/html,hi)')).not.toContain('<a');
    expect(renderMarkdown('[write](mailto:hola@charla.example)')).toContain('<a href="mailto:hola@charla.example"');
  });

  it('leaves code and snake_case words alone', () => {
    expect(renderMarkdown('`**not bold**` my_file_name')).toBe('<code>**not bold**</code> my_file_name');
  });
});
