import { parseVerb } from '../args.ts';
import { compileFormat } from '../docker-args.ts';
import { inspectImage } from '../../engine/image-list.ts';
import { err, out } from '../output.ts';
import { errorText, type ImageGlobals } from './index.ts';

/** `hako image inspect [-f FORMAT] IMAGE...`: a JSON list; missing images are errors, the rest still shown. */
export default async function inspect(args: string[], g: ImageGlobals): Promise<number> {
  const { values: o, positionals } = parseVerb('image inspect', args, { format: { type: 'string', short: 'f' } }, { min: 1, max: Infinity, usage: 'hako image inspect [OPTIONS] IMAGE [IMAGE...]' });
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of positionals) {
    try {
      found.push(inspectImage(g.svc, ref));
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  if (o.format) {
    const { render } = compileFormat(o.format);
    out(found.map((f) => `${render(f)}\n`).join(''));
  } else out(`${JSON.stringify(found, null, 4)}\n`);
  for (const e of errors) err(`hako: ${e}\n`);
  return errors.length ? 1 : 0;
}
