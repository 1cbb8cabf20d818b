export declare const SERVICE_NODE_OPTIONS: readonly string[];
