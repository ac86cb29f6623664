// Messages are Markdown rendered into the console's DOM: everything the sender wrote is escaped,
// and only the constructs we support become tags.
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../agent-ui/src/markdown/render-markdown.ts';

describe('rendering a message’s Markdown', () => {
  it('shows markup as text', () => {
    expect(renderMarkdown('<script>alert(1)</script><img src=x onerror="alert(2)">')).toBe(
      '<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;</p>',
    );
  });

  it('formats bold, italic, code and line breaks', () => {
    expect(renderMarkdown('Hola **Lucía**, _gracias_\nVer `code <b>`')).toBe(
      '<p>Hola <strong>Lucía</strong>, <em>gracias</em><br>Ver <code>code &lt;b&gt;</code></p>',
    );
  });

  it('keeps code spans unformatted', () => {
    expect(renderMarkdown('`**not bold**`')).toBe('<p><code>**not bold**</code></p>');
  });

  it('makes lists', () => {
    expect(renderMarkdown('Steps:\n- one\n- two\n\n1. first\n2. second')).toBe(
      '<p>Steps:</p><ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>',
    );
  });

  it('links only http(s) and mailto targets, opened apart from the console', () => {
    expect(renderMarkdown('[shop](https://shop.test/a?b=1&c=2)')).toBe(
      '<p><a href="https://shop.test/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">shop</a></p>',
    );
    expect(renderMarkdown('[click](javascript:alert(1))')).toBe('<p>[click](javascript:alert(1))</p>');
    expect(renderMarkdown('see https://shop.test/x.')).toBe(
      '<p>see <a href="https://shop.test/x" target="_blank" rel="noopener noreferrer nofollow">https://shop.test/x</a>.</p>',
    );
  });

  it('cannot break out of a link’s attribute', () => {
    const html = renderMarkdown('[x](https://a.test/"onmouseover="alert(1))');
    expect(html).not.toMatch(/"onmouseover=/);
  });

  it('shows mentions by name', () => {
    expect(renderMarkdown('[@Ana García](mention://agent/65a1b2c3d4e5f60718293a4b) mira esto')).toBe(
      '<p><span class="mention">@Ana García</span> mira esto</p>',
    );
  });
});
