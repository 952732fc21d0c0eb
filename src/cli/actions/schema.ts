import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { appJsonSchema } from '../../appspec/appSchema.ts';

/** `berth schema`: the App spec as JSON Schema, for editors (yaml-language-server) and code generators. */
export async function runSchema(ctx: CommandContext): Promise<void> {
  ctx.io.stdout.write(`${JSON.stringify(appJsonSchema(), null, 2)}\n`);
  ctx.setExit(EXIT.OK);
}
