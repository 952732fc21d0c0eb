// Types of eslint.config.js's named exports, for test/importLayers.test.ts.
import type { ConfigArray } from 'typescript-eslint';

export declare const LAYERS: ReadonlyArray<{ readonly dir: string; readonly layers: ReadonlyArray<ReadonlyArray<string>>; readonly only?: Readonly<Record<string, ReadonlyArray<string>>> }>;
export declare const TEMPORARY_ALLOWED_IMPORTS: ReadonlyArray<{ readonly from: string; readonly to: string }>;
export declare const LAYER_EXEMPT: readonly string[];
export declare function forbiddenTargets(path: string): { target: string; message: string }[];
declare const config: ConfigArray;
export default config;
