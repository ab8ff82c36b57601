import { defineConfig } from 'vitest/config';

// Two tiers: `unit` is the pure core (fast, no I/O beyond temp dirs);
// `integration` drives a real Docker engine and real git repositories.
// Integration files share one engine, so they run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
