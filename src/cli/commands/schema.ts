import type { RegisterCommand } from '../command.ts';

/** `berth schema`: the App spec as JSON Schema, for editors (yaml-language-server) and code generators. */
export const registerSchema: RegisterCommand = (program, ctx) => {
  program
    .command('schema')
    .description('Print the App spec as JSON Schema (draft 2020-12).')
    .action(async () => (await import('../actions/schema.ts')).runSchema(ctx));
};
