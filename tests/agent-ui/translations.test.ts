// Every console string exists in English and Spanish, and every error code the server raises
// has a translated message.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import en from '../../agent-ui/src/i18n/en.ts';
import es from '../../agent-ui/src/i18n/es.ts';

type Tree = { [key: string]: string | Tree };

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => (typeof value === 'string' ? [`${prefix}${key}`] : keys(value, `${prefix}${key}.`)));
}

function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the console’s translations', () => {
  it('has the same keys in English and Spanish, none empty', () => {
    expect(keys(es as Tree).sort()).toEqual(keys(en as Tree).sort());
    for (const key of keys(es as Tree)) expect(key.split('.').reduce<any>((node, part) => node[part], es), key).not.toBe('');
  });

  it('translates every error code the server raises (except the widget’s and channels’ own)', () => {
    const server = fileURLToPath(new URL('../../server/src/', import.meta.url));
    const codes = new Set<string>();
    for (const file of sources(server)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:AppError|HttpError)\((?:\d+, )?'([a-z_]+\/[a-z_]+)'/g)) codes.add(match[1]!);
    }
    const visitorOnly = ['auth/identity_invalid', 'channel/attachment_unavailable', 'channel/not_the_contact', 'config/invalid', 'conversation/not_resolved', 'widget/origin_not_allowed', 'widget/rate_limited'];
    const errors = (en as Tree).errors as Tree;
    const missing = [...codes].filter((code) => !visitorOnly.includes(code) && !(code.replace(/\W/g, '_') in errors));
    expect(missing).toEqual([]);
  });
});
