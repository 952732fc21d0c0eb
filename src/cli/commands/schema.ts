import type { RegisterCommand } from '../command.ts';
import { EXIT } from '../io.ts';
import { appJsonSchema } from '../../appspec/appSchema.ts';

/** `berth schema`: the App spec as JSON Schema, for editors (yaml-language-server) and code generators. */
export const registerSchema: RegisterCommand = (program, ctx) => {
  program
    .command('schema')
    .description('Print the App spec as JSON Schema (draft 2020-12).')
    .action(() => {
      ctx.io.stdout.write(`${JSON.stringify(appJsonSchema(), null, 2)}\n`);
      ctx.setExit(EXIT.OK);
    });
};
