export declare const bundleDir: string;
export declare const bundledPackages: ReadonlySet<string>;
export declare function packageOf(specifier: string): string;
