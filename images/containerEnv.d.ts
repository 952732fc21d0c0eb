/** Absolute paths of the project's containers configuration files (images/*.conf). */
export declare const CONTAINERS_FILES: Readonly<{ containersConf: string; storageConf: string; registriesConf: string }>;
/** `baseEnv` (default process.env) plus CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF. */
export declare function containerEnv(baseEnv?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
